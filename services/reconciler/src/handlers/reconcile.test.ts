// The reconciler's decisions for a dead letter, with the provider as a plain fake, turned into
// records the way the runtime does (the dlt consumer's declared routes).
import { asDeclared, createLogger, PipelineError, type ProviderBooking, recordOf } from '@booking/kit';
import type { DeadLetter } from '@booking/schemas';
import { describe, expect, it } from 'vitest';
import { reconcilerTopology } from '../topology.js';
import { reconcileHandler } from './reconcile.js';

const topics = { dlt: 'dlt', lifecycle: 'life', compensation: 'comp', reconciliation: 'rec', audit: 'aud' };
const NOW = 1_000_000;
const ID = '34963e3c-2864-885e-a293-e740cc9d7ef2';
const logger = createLogger({ service: 'test', level: 'silent' });
const consumer = reconcilerTopology(topics).consumers.dlt;
const letter = (o: Partial<DeadLetter> = {}): DeadLetter => ({
  appointmentId: ID,
  reason: 'RETRIES_EXHAUSTED',
  errorClass: 'PROVIDER_503',
  errorMessage: '5 attempts failed',
  fieldErrors: [],
  originalTopic: 'req',
  originalPartition: 0,
  originalOffset: 4,
  originalKey: null,
  originalValue: null,
  originalHeaders: {},
  attempts: 5,
  firstSeenAt: 1,
  deadLetteredAt: 2,
  deadline: null,
  correlationId: 'c-1',
  ...o,
});
const record = (d: DeadLetter) => recordOf('dlt', d, { offset: '8' });
const booking = (status: ProviderBooking['status'], bookingId = 'bk_1'): ProviderBooking => ({
  bookingId,
  externalRef: ID,
  calendarId: 'cal-x',
  status,
});
function reconciler(bookings: ProviderBooking[] | Error, lateCreateWindowMs?: number) {
  const decisions: string[] = [];
  const handle = reconcileHandler(topics, {
    findByExternalRef: async () => {
      if (bookings instanceof Error) throw bookings;
      return bookings;
    },
    count: (d) => decisions.push(d),
    logger,
    now: () => NOW,
    ...(lateCreateWindowMs !== undefined ? { lateCreateWindowMs } : {}),
  });
  const run = asDeclared('dlt', consumer, handle, { logger, now: () => NOW });
  return { run, decisions };
}
const path = (out: { topic: string; value: unknown }[]) =>
  out.map((e) => {
    const v = e.value as { from?: string; to?: string; decision?: string; cause?: string; kind?: string };
    return e.topic === 'life' ? `${v.from}->${v.to}` : `${e.topic}:${v.decision ?? v.cause ?? v.kind}`;
  });

describe('reconcileHandler decides', () => {
  it('believes "no booking" after failed attempts only once a late create can no longer land', async () => {
    const { run } = reconciler([], 10_000);
    const young = letter({ deadLetteredAt: NOW - 4000 });
    await expect(run(record(young))).rejects.toMatchObject({ retryable: true, code: 'PROVIDER_TIMEOUT' });
    expect(path(await run(record(letter({ deadLetteredAt: NOW - 10_000 }))))).toContain(
      'RECONCILING->FAILED',
    );
    // A booking found is acted on at once, whatever the age.
    const found = reconciler([booking('CONFIRMED')], 10_000);
    expect(path(await found.run(record(young)))).toContain('RECONCILING->CONFIRMED');
  });

  it('no booking at the provider: FAILED, verified', async () => {
    const r = reconciler([booking('CANCELLED')]);
    expect(path(await r.run(record(letter())))).toEqual([
      'DEAD_LETTERED->RECONCILING',
      'RECONCILING->FAILED',
      'rec:FAIL',
    ]);
    expect(r.decisions).toEqual(['FAIL']);
  });

  it('a confirmed booking still wanted: CONFIRMED, and a second live booking cancelled', async () => {
    const out = await reconciler([booking('CONFIRMED'), booking('PENDING', 'bk_2')]).run(record(letter()));
    expect(path(out)).toEqual([
      'DEAD_LETTERED->RECONCILING',
      'RECONCILING->CONFIRMED',
      'comp:DUPLICATE_BOOKING',
      'rec:CONFIRM',
    ]);
    expect(out[2]?.value).toMatchObject({ bookingId: 'bk_2' });
  });

  it('a booking past its deadline: COMPENSATING and a cancel command', async () => {
    const out = await reconciler([booking('CONFIRMED')]).run(record(letter({ deadline: NOW - 1 })));
    expect(path(out)).toEqual([
      'DEAD_LETTERED->RECONCILING',
      'RECONCILING->COMPENSATING',
      'comp:DEADLINE_PASSED',
      'rec:COMPENSATE',
    ]);
  });

  it('still pending and still wanted, or the provider unreachable: the record is kept for later', async () => {
    await expect(reconciler([booking('PENDING')]).run(record(letter()))).rejects.toMatchObject({
      retryable: true,
    });
    const outage = new PipelineError('PROVIDER_UNAVAILABLE', '503', { retryable: true });
    await expect(reconciler(outage).run(record(letter()))).rejects.toBe(outage);
  });

  it('a dead letter that names no appointment: quarantined in the audit trail, raw bytes kept', async () => {
    const r = reconciler([]);
    const out = await r.run(
      record(letter({ appointmentId: null, reason: 'DECODE_FAILED', originalValue: Buffer.from('junk') })),
    );
    expect(path(out)).toEqual(['aud:QUARANTINE']);
    expect(out[0]?.value).toMatchObject({ rawBase64: Buffer.from('junk').toString('base64'), topic: 'req' });
    expect(r.decisions).toEqual(['QUARANTINE']);
  });
});
