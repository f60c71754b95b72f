// The inbound handler's decisions, with the idempotency claims as a plain in-memory fake of
// SET NX (the real Redis is exercised by tests/integration/intake-accept.test.ts), turned into
// records the way the runtime does (the inbound consumer's declared routes).
import {
  asDeclared,
  type ClaimResult,
  Counter,
  createLogger,
  createMetricsRegistry,
  HEADERS,
  recordOf,
} from '@booking/kit';
import type { DeadLetter, InboundRequest } from '@booking/schemas';
import { describe, expect, it } from 'vitest';
import { intakeTopology } from '../topology.js';
import { inboundHandler } from './inbound.js';

const topics = { inbound: 'in', requested: 'req', lifecycle: 'life', dlt: 'dlt' };
const NOW = Date.parse('2027-01-01T00:00:00Z');
const logger = createLogger({ service: 'test', level: 'silent' });
const consumer = intakeTopology(topics).consumers.inbound;

const inbound = (o: Partial<InboundRequest> = {}): InboundRequest => ({
  idempotencyKey: 'order-0001-abc',
  patient: { id: 'p-1', name: 'Jane Roe', phone: null, email: null },
  calendarId: 'cal-immediate-1',
  slot: { start: '2027-01-04T09:00:00Z', end: '2027-01-04T09:30:00Z', timezone: 'Europe/London' },
  reason: null,
  deadline: null,
  source: 'clinic-a',
  ...o,
});
let offset = 0;
const record = (v: InboundRequest, at = String(offset++), timestamp?: number) =>
  recordOf('in', v, {
    key: v.idempotencyKey,
    offset: at,
    headers: { [HEADERS.correlationId]: 'corr-1' },
    raw: Buffer.from([7]),
    ...(timestamp !== undefined ? { timestamp: String(timestamp) } : {}),
  });

function intake() {
  const held = new Map<string, string>();
  const registry = createMetricsRegistry('inbound-test');
  const metric = (name: string) =>
    new Counter({ name, help: name, labelNames: ['channel', 'outcome'], registers: [registry] });
  const metrics = { accepted: metric('accepted'), idempotencyHits: metric('hits') };
  const handle = inboundHandler({
    claim: async (key, value): Promise<ClaimResult> => {
      const holder = held.get(key);
      if (holder !== undefined) return { won: false, holder };
      held.set(key, value);
      return { won: true, holder: null };
    },
    topics,
    idempotencyTtlMs: 60_000,
    now: () => NOW,
    logger,
    metrics: metrics as never,
  });
  const run = asDeclared('inbound', consumer, handle, { logger, now: () => NOW });
  return { run, held };
}

describe('inboundHandler decides', () => {
  it('a valid record: AppointmentRequested and REQUESTED, keyed by the appointment id', async () => {
    const out = await intake().run(record(inbound()));
    expect(out.map((e) => e.topic)).toEqual(['req', 'life']);
    expect(out[0]?.key).toBe(out[1]?.key);
    expect(out[1]?.value).toMatchObject({ from: null, to: 'REQUESTED', source: 'clinic-a' });
    expect(out[0]?.headers).toMatchObject({ [HEADERS.attempt]: '1', [HEADERS.correlationId]: 'corr-1' });
  });

  it('a deadline that passed while the record waited in Kafka: accepted (dispatch fails it at its deadline); one already past when it was published: dead-lettered', async () => {
    const waited = await intake().run(
      record(inbound({ idempotencyKey: 'order-waited-01', deadline: NOW - 5_000 }), undefined, NOW - 20_000),
    );
    expect(waited.map((e) => e.topic)).toEqual(['req', 'life']);
    expect(waited[0]?.value).toMatchObject({ deadline: NOW - 5_000 });
    const stale = await intake().run(
      record(inbound({ idempotencyKey: 'order-stale-001', deadline: NOW - 5_000 }), undefined, NOW - 1_000),
    );
    expect(stale.map((e) => e.topic)).toEqual(['dlt']);
    expect((stale[0]!.value as DeadLetter).fieldErrors).toEqual([
      'deadline: must be in the future (epoch ms)',
    ]);
    // A timestamp from the future counts as now: it cannot make an expired deadline look valid.
    const future = await intake().run(
      record(inbound({ idempotencyKey: 'order-future-01', deadline: NOW - 5_000 }), undefined, NOW + 60_000),
    );
    expect(future.map((e) => e.topic)).toEqual(['dlt']);
  });

  it('the same key and body again (a resubmission): nothing more', async () => {
    const i = intake();
    await i.run(record(inbound()));
    expect(await i.run(record(inbound()))).toEqual([]);
  });

  it('the same record redelivered (same offset): emitted again, with the same ids', async () => {
    const i = intake();
    const first = await i.run(record(inbound(), '42'));
    const again = await i.run(record(inbound(), '42'));
    expect(again.map((e) => e.key)).toEqual(first.map((e) => e.key));
    expect((again[1]!.value as { eventId: string }).eventId).toBe(
      (first[1]!.value as { eventId: string }).eventId,
    );
  });

  it('the same key with another body: dead-lettered as IDEMPOTENCY_CONFLICT', async () => {
    const i = intake();
    await i.run(record(inbound()));
    const out = await i.run(record(inbound({ calendarId: 'cal-immediate-2' })));
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({
      topic: 'dlt',
      value: { reason: 'IDEMPOTENCY_CONFLICT', correlationId: 'corr-1' },
    });
  });

  it('an impossible date: dead-lettered with the field that is wrong, no claim taken', async () => {
    const i = intake();
    const out = await i.run(
      record(
        inbound({ slot: { start: '2027-02-30T09:00:00Z', end: '2027-02-30T09:30:00Z', timezone: 'UTC' } }),
      ),
    );
    expect(out.map((e) => e.topic)).toEqual(['dlt']);
    const letter = out[0]?.value as DeadLetter;
    expect(letter.reason).toBe('VALIDATION_FAILED');
    expect(letter.fieldErrors.some((f) => f.startsWith('slot.start'))).toBe(true);
    // The key itself may carry personal data: only its hash goes into the dead letter.
    expect(out[0]?.key).toMatch(/^sha256:/);
    expect(i.held.size).toBe(0);
  });
});

describe('the same text and header rules as HTTP (issue 31)', () => {
  it('control characters or a bidi override in any string field: dead-lettered naming each field, no claim', async () => {
    const i = intake();
    const out = await i.run(
      record(
        inbound({
          idempotencyKey: 'order-ctl-0001',
          patient: { id: 'p-\u0000', name: 'Jo \u001b[31mRed\r\nX-Injected: 1', phone: null, email: null },
          reason: 'fine \u202e txt.exe',
          source: 'clinic-\u0085',
        }),
      ),
    );
    expect(out.map((e) => e.topic)).toEqual(['dlt']);
    const letter = out[0]?.value as DeadLetter;
    expect(letter.reason).toBe('VALIDATION_FAILED');
    expect(letter.fieldErrors.map((f) => f.split(':')[0])).toEqual(
      expect.arrayContaining(['patient.id', 'patient.name', 'reason', 'source']),
    );
    expect(i.held.size).toBe(0);
  });

  it('an idempotencyKey of spaces, or with a space at either end, is refused', async () => {
    for (const key of ['        ', ' order-0001-x', 'order-0001-x ']) {
      const out = await intake().run(record(inbound({ idempotencyKey: key })));
      expect((out[0]!.value as DeadLetter).fieldErrors[0]).toMatch(/^idempotencyKey: /);
    }
  });

  it('a correlation id of another shape is replaced, a malformed traceparent dropped', async () => {
    const bad = recordOf('in', inbound({ idempotencyKey: 'order-hdr-0001' }), {
      key: 'k',
      offset: String(offset++),
      headers: { [HEADERS.correlationId]: 'c'.repeat(200), [HEADERS.traceparent]: 'not-a-trace\r\n' },
      raw: Buffer.from([7]),
    });
    const out = await intake().run(bad);
    const corr = out[0]?.headers?.[HEADERS.correlationId];
    expect(corr).toMatch(/^[0-9a-f-]{36}$/);
    expect(out[0]?.headers?.[HEADERS.traceparent]).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });
});
