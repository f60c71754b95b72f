// The compensation handler's decisions, with the provider as a plain fake: what it decides for a
// cancel that worked, a booking the provider does not know, a duplicate, a retryable failure, and
// a programming error. (Turning a decision into retry and dead-letter records is the kit's, tested
// in packages/kit/src/kafka/outcome.test.ts.)
import { type Outcome, PipelineError, recordOf } from '@booking/kit';
import type { CompensationCommand } from '@booking/schemas';
import { describe, expect, it } from 'vitest';
import { compensateHandler } from './compensate.js';

const topics = { compensation: 'comp', compensationDlt: 'comp-dlt', lifecycle: 'life' };
const command = (cause: CompensationCommand['cause'] = 'LATE_CONFIRMATION'): CompensationCommand => ({
  commandId: 'cmd-1',
  appointmentId: '34963e3c-2864-885e-a293-e740cc9d7ef2',
  bookingId: 'bk_1',
  calendarId: 'cal-x',
  cause,
  requestedAt: 1000,
  correlationId: 'corr-1',
});
const record = (c: CompensationCommand, attempt = 1) => recordOf('comp', c, { offset: '7', attempt });
function decide(cancel: (bookingId: string) => Promise<boolean>, c = command(), attempt = 1) {
  const counted: string[] = [];
  const out = compensateHandler(topics, { cancel, count: (o) => counted.push(o) })(record(c, attempt));
  return { out, counted };
}
const events = (o: Outcome) => (o.kind === 'emit' ? o.emit : []);
const outage = async (): Promise<boolean> => {
  throw new PipelineError('PROVIDER_UNAVAILABLE', 'provider answered 503', { retryable: true });
};

describe('compensateHandler decides', () => {
  it('a cancelled booking: COMPENSATED', async () => {
    const { out, counted } = decide(async () => true);
    const o = await out;
    expect(events(o)).toHaveLength(1);
    expect(events(o)[0]).toMatchObject({
      topic: 'life',
      key: command().appointmentId,
      value: {
        from: 'COMPENSATING',
        to: 'COMPENSATED',
        attempt: 1,
        reason: 'booking bk_1 cancelled (LATE_CONFIRMATION)',
      },
    });
    expect(counted).toEqual(['cancelled']);
  });

  it('a booking the provider does not know: nothing left to undo, COMPENSATED all the same', async () => {
    const { out, counted } = decide(async () => false, command(), 2);
    expect(events(await out)[0]).toMatchObject({
      value: { to: 'COMPENSATED', attempt: 2, reason: 'booking bk_1 not found at the provider' },
    });
    expect(counted).toEqual(['not-found']);
  });

  it("a duplicate booking: cancelled, and the appointment's state untouched", async () => {
    expect(await decide(async () => true, command('DUPLICATE_BOOKING')).out).toEqual({
      kind: 'emit',
      emit: [],
    });
  });

  it('a provider outage: retry, and when spent its own dead letter with an alert for a person', async () => {
    const { out, counted } = decide(outage);
    expect(await out).toEqual({
      kind: 'retry',
      reason: 'PROVIDER_UNAVAILABLE',
      message: 'provider answered 503',
      about: { appointmentId: command().appointmentId, correlationId: 'corr-1', firstSeen: 1000 },
      exhaustedReason: 'COMPENSATION_FAILED',
      alertIfExhausted: 'compensation_failed',
    });
    expect(counted).toEqual(['failed']);
  });

  it('a programming error is not retried: it is thrown for the runtime to dead-letter', async () => {
    await expect(
      decide(async () => {
        throw new TypeError('bug');
      }).out,
    ).rejects.toThrow('bug');
  });
});
