// The poll handler's decisions, with the provider as a plain fake (the outside world), turned into
// records the way the runtime does (resolveOutcome with the consumer's declared routes: a record for
// a topic the topology does not declare fails the test).
import { asDeclared, createLogger, HEADERS, type ProviderBooking, recordOf } from '@booking/kit';
import type { ProviderPoll } from '@booking/schemas';
import { describe, expect, it } from 'vitest';
import type { DispatchProvider } from '../adapters/ports.js';
import { dispatchTopology } from '../topology.js';
import { pollHandler } from './poll.js';

const topics = {
  requested: 'req',
  pending: 'pend',
  lifecycle: 'life',
  dlt: 'dlt',
  compensation: 'comp',
};
const logger = createLogger({ service: 'test', level: 'silent' });
const consumer = dispatchTopology(topics, { delaysMs: [1000], maxAttempts: 2, jitter: 0 }).consumers.polls;
const NOW = 1_000_000;
const poll = (o: Partial<ProviderPoll> = {}): ProviderPoll => ({
  appointmentId: '34963e3c-2864-885e-a293-e740cc9d7ef2',
  bookingId: 'bk_1',
  calendarId: 'cal-x',
  deadline: null,
  polls: 0,
  firstSeenAt: NOW - 5000,
  correlationId: 'corr-1',
  duplicateCheck: false,
  ...o,
});
const record = (p: ProviderPoll, headers: Record<string, string> = {}) =>
  recordOf('pend', p, { offset: '3', headers: { [HEADERS.attempt]: '2', ...headers } });
const booking = (status: ProviderBooking['status'], bookingId = 'bk_1') =>
  ({ bookingId, externalRef: poll().appointmentId, calendarId: 'cal-x', status }) as ProviderBooking;
function handler(provider: Partial<DispatchProvider>) {
  const alerts: string[] = [];
  const handle = pollHandler(
    topics,
    { pollMinMs: 100, pollMaxMs: 1000 },
    { provider: provider as DispatchProvider, alert: (k) => alerts.push(k), logger, now: () => NOW },
  );
  return asDeclared('polls', consumer, handle, { logger, now: () => NOW });
}
const tos = (out: { topic: string; value: unknown }[]) =>
  out.map(
    (e) =>
      `${e.topic}:${(e.value as { to?: string; reason?: string }).to ?? (e.value as { reason?: string }).reason ?? ''}`,
  );

describe('pollHandler decides', () => {
  it('confirmed or rejected at the provider: the terminal state', async () => {
    expect(tos(await handler({ get: async () => booking('CONFIRMED') })(record(poll())))).toEqual([
      'life:CONFIRMED',
    ]);
    expect(tos(await handler({ get: async () => booking('REJECTED') })(record(poll())))).toEqual([
      'life:REJECTED',
    ]);
  });

  it('still pending: polls again later, the interval growing to its cap, carrying only our headers', async () => {
    const out = await handler({ get: async () => booking('PENDING') })(
      record(poll({ polls: 1 }), { 'x-junk': 'x'.repeat(10_000), [HEADERS.correlationId]: 'corr-1' }),
    );
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ topic: 'pend', value: { polls: 2 } });
    expect(out[0]!.headers).toEqual({
      [HEADERS.attempt]: '2',
      [HEADERS.correlationId]: 'corr-1',
      [HEADERS.notBefore]: String(NOW + 400),
    });
    const capped = await handler({ get: async () => booking('PENDING') })(record(poll({ polls: 9 })));
    expect(capped[0]!.headers?.[HEADERS.notBefore]).toBe(String(NOW + 1000));
  });

  it('a booking the provider no longer knows: dead-lettered for reconciliation', async () => {
    expect(tos(await handler({ get: async () => null })(record(poll())))).toEqual([
      'dlt:BOOKING_NOT_FOUND',
      'life:DEAD_LETTERED',
    ]);
  });

  it('confirmed after the deadline: CONFIRMED, then compensated', async () => {
    const out = await handler({ get: async () => booking('CONFIRMED') })(record(poll({ deadline: NOW - 1 })));
    expect(tos(out)).toEqual(['life:CONFIRMED', 'life:COMPENSATING', 'comp:']);
  });

  it('a duplicate check that finds a second live booking: only that one is cancelled', async () => {
    const out = await handler({
      lookup: async () => [
        booking('CONFIRMED', 'bk_1'),
        booking('CONFIRMED', 'bk_2'),
        booking('CANCELLED', 'bk_3'),
      ],
    })(record(poll({ duplicateCheck: true })));
    expect(out.map((e) => e.topic)).toEqual(['comp']);
    expect(out[0]!.value).toMatchObject({ bookingId: 'bk_2', cause: 'DUPLICATE_BOOKING' });
  });
});
