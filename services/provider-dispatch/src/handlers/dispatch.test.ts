// The dispatch handler's decisions, with the provider, the lock and the marker as plain fakes, turned
// into records the way the runtime does (resolveOutcome with the declared routes of the requests
// consumer: a record for a topic the topology does not declare fails the test).
import { asDeclared, createLogger, HEADERS, type ProviderBooking, recordOf } from '@booking/kit';
import type { AppointmentRequested } from '@booking/schemas';
import { describe, expect, it } from 'vitest';
import type { GuardedOutcome } from '../adapters/circuit.js';
import type { AttemptStart } from '../adapters/ports.js';
import { dispatchTopology } from '../topology.js';
import { dispatchHandler } from './dispatch.js';

const topics = { requested: 'req', pending: 'pend', lifecycle: 'life', dlt: 'dlt', compensation: 'comp' };
const NOW = 1_000_000;
const ID = '34963e3c-2864-885e-a293-e740cc9d7ef2';
const logger = createLogger({ service: 'test', level: 'silent' });
const consumer = dispatchTopology(topics, { delaysMs: [1000, 4000], maxAttempts: 3, jitter: 0 }).consumers
  .requests;

const request = (o: Partial<AppointmentRequested> = {}): AppointmentRequested => ({
  appointmentId: ID,
  source: 'http',
  idempotencyKeyHash: 'h',
  patient: { id: 'p-1', name: 'Jane Roe', phone: null, email: null },
  calendarId: 'cal-x',
  slot: { start: '2027-01-04T09:00:00', end: '2027-01-04T09:30:00', timezone: 'Europe/Berlin' },
  reason: null,
  deadline: null,
  acceptedAt: NOW - 2000,
  correlationId: 'corr-1',
  ...o,
});
const record = (r: AppointmentRequested, attempt = 1, topic = 'req') =>
  recordOf(topic, r, { offset: '5', attempt });
const booking = (status: ProviderBooking['status'], bookingId = 'bk_1'): ProviderBooking => ({
  bookingId,
  externalRef: ID,
  calendarId: 'cal-x',
  status,
});

interface World {
  start?: AttemptStart;
  create?: GuardedOutcome | Error;
  lookup?: ProviderBooking[] | Error;
}
function dispatcher(world: World) {
  const calls = { creates: 0, lookups: 0, begun: 0, ended: 0, createTimeoutMs: 0 };
  const alerts: string[] = [];
  const handle = dispatchHandler(
    topics,
    { timeoutMs: 2000, pollMinMs: 250, pollMaxMs: 30_000, duplicateCheckAfterMs: 10_000, instanceId: 'i-1' },
    {
      provider: {
        async lookup() {
          calls.lookups++;
          if (world.lookup instanceof Error) throw world.lookup;
          return world.lookup ?? [];
        },
        async create(_req, timeoutMs) {
          calls.creates++;
          calls.createTimeoutMs = timeoutMs;
          if (world.create instanceof Error) throw world.create;
          return world.create ?? { kind: 'confirmed', bookingId: 'bk_1' };
        },
        async get() {
          return null;
        },
      },
      attempts: {
        async begin() {
          calls.begun++;
          return world.start ?? 'first';
        },
        async end() {
          calls.ended++;
        },
      },
      alert: (k) => alerts.push(k),
      logger,
      now: () => NOW,
    },
  );
  const run = asDeclared('requests', consumer, handle, { logger, now: () => NOW });
  return { run, calls, alerts };
}
const path = (out: { topic: string; value: unknown }[]) =>
  out.map((e) => {
    const v = e.value as { from?: string; to?: string; reason?: string; duplicateCheck?: boolean };
    if (e.topic === 'life') return `${v.from}->${v.to}`;
    if (e.topic === 'pend') return v.duplicateCheck ? 'pend:duplicate-check' : 'pend:poll';
    return `${e.topic}${v.reason ? `:${v.reason}` : ''}`;
  });

describe('dispatchHandler decides', () => {
  it('a first attempt the provider confirms: DISPATCHING -> CONFIRMED, one create, the lock released', async () => {
    const d = dispatcher({});
    expect(path(await d.run(record(request())))).toEqual([
      'REQUESTED->DISPATCHING',
      'DISPATCHING->CONFIRMED',
    ]);
    expect(d.calls).toMatchObject({ creates: 1, lookups: 0, begun: 1, ended: 1, createTimeoutMs: 2000 });
  });

  it('pending at the provider: PENDING_PROVIDER and a poll not before the minimum wait', async () => {
    const out = await dispatcher({ create: { kind: 'pending', bookingId: 'bk_1', retryAfterMs: 0 } }).run(
      record(request()),
    );
    expect(path(out)).toEqual(['REQUESTED->DISPATCHING', 'DISPATCHING->PENDING_PROVIDER', 'pend:poll']);
    expect(out[2]?.headers?.[HEADERS.notBefore]).toBe(String(NOW + 250));
  });

  it('a 422 from the provider: REJECTED, no retry', async () => {
    const out = await dispatcher({ create: { kind: 'rejected', status: 422, error: 'INVALID_SLOT' } }).run(
      record(request()),
    );
    expect(path(out)).toEqual(['REQUESTED->DISPATCHING', 'DISPATCHING->REJECTED']);
  });

  it('a 503: RETRY_SCHEDULED and the next retry topic; past the last attempt: the DLT', async () => {
    const retried = await dispatcher({ create: { kind: 'unavailable', status: 503 } }).run(record(request()));
    expect(path(retried)).toEqual(['REQUESTED->DISPATCHING', 'DISPATCHING->RETRY_SCHEDULED', 'req.retry-1s']);
    expect(retried[2]?.headers).toMatchObject({
      [HEADERS.attempt]: '2',
      [HEADERS.errorClass]: 'PROVIDER_503',
    });

    const spent = await dispatcher({ create: { kind: 'unavailable', status: 503 } }).run(
      record(request(), 3, 'req.retry-4s'),
    );
    expect(path(spent)).toEqual([
      'RETRY_SCHEDULED->DISPATCHING',
      'dlt:RETRIES_EXHAUSTED',
      'DISPATCHING->DEAD_LETTERED',
    ]);
  });

  it('refused by the open circuit: retried when a trial may go through, the refusal counted; a real failure after it starts the schedule over', async () => {
    const refused = await dispatcher({ create: { kind: 'circuit-open', retryAfterMs: 3000 } }).run(
      record(request()),
    );
    expect(path(refused)).toEqual(['REQUESTED->DISPATCHING', 'DISPATCHING->RETRY_SCHEDULED', 'req.retry-1s']);
    expect(refused[2]?.headers).toMatchObject({
      [HEADERS.attempt]: '2',
      [HEADERS.errorClass]: 'CIRCUIT_OPEN',
      [HEADERS.uncalled]: '1',
      [HEADERS.notBefore]: String(NOW + 3000),
    });
    // Attempt 2 reaches the provider and fails: the first delay again (not the second), refusal kept.
    const failed = await dispatcher({ create: { kind: 'unavailable', status: 503 }, start: 'again' }).run(
      recordOf('req.retry-1s', request(), { offset: '5', attempt: 2, headers: { [HEADERS.uncalled]: '1' } }),
    );
    expect(failed.at(-1)).toMatchObject({
      topic: 'req.retry-1s',
      headers: { [HEADERS.attempt]: '3', [HEADERS.uncalled]: '1', [HEADERS.notBefore]: String(NOW + 1000) },
    });
  });

  it('a 429 with Retry-After: the retry waits as long as the provider asked', async () => {
    const out = await dispatcher({ create: { kind: 'rate-limited', retryAfterMs: 3000 } }).run(
      record(request()),
    );
    expect(out.at(-1)).toMatchObject({
      topic: 'req.retry-1s',
      headers: { [HEADERS.notBefore]: String(NOW + 3000) },
    });
  });

  it('a 401: an alert for a person, and a retry', async () => {
    const d = dispatcher({ create: { kind: 'auth' } });
    expect(path(await d.run(record(request())))).toContain('DISPATCHING->RETRY_SCHEDULED');
    expect(d.alerts).toEqual(['provider_auth']);
  });

  it('a passed deadline: dead-lettered without a call, the lock released', async () => {
    const d = dispatcher({});
    const out = await d.run(record(request({ deadline: NOW - 1 })));
    expect(path(out)).toEqual(['dlt:DEADLINE_EXCEEDED', 'REQUESTED->DEAD_LETTERED']);
    expect(d.calls).toMatchObject({ creates: 0, lookups: 0, begun: 1, ended: 1 });
  });

  it('a stale attempt read again (a later one has begun): nothing emitted, no call, not even past its deadline', async () => {
    for (const deadline of [null, NOW - 1]) {
      const d = dispatcher({ start: 'stale' });
      expect(await d.run(record(request({ deadline }), 1))).toEqual([]);
      expect(d.calls).toMatchObject({ creates: 0, lookups: 0, begun: 1, ended: 0 });
    }
  });

  it('the remaining deadline bounds the create timeout', async () => {
    const d = dispatcher({});
    await d.run(record(request({ deadline: NOW + 700 })));
    expect(d.calls.createTimeoutMs).toBe(700);
  });

  it('another consumer holds the appointment: a retryable error, nothing sent', async () => {
    const d = dispatcher({ start: 'busy' });
    await expect(d.run(record(request()))).rejects.toMatchObject({
      code: 'IDEMPOTENCY_CONFLICT',
      retryable: true,
    });
    expect(d.calls).toMatchObject({ creates: 0, ended: 0 });
  });

  it('a later attempt adopts the booking the provider holds, and checks again for a late duplicate', async () => {
    const d = dispatcher({ start: 'again', lookup: [booking('CANCELLED', 'bk_0'), booking('CONFIRMED')] });
    expect(path(await d.run(record(request(), 2, 'req.retry-1s')))).toEqual([
      'RETRY_SCHEDULED->DISPATCHING',
      'DISPATCHING->CONFIRMED',
      'pend:duplicate-check',
    ]);
    expect(d.calls).toMatchObject({ creates: 0, lookups: 1, ended: 1 });
  });

  it('a later attempt with two live bookings: an alert, the confirmed one kept', async () => {
    const d = dispatcher({
      start: 'again',
      lookup: [booking('PENDING', 'bk_2'), booking('CONFIRMED', 'bk_1')],
    });
    const out = await d.run(record(request(), 2, 'req.retry-1s'));
    expect(out[1]?.value).toMatchObject({ to: 'CONFIRMED', bookingId: 'bk_1' });
    expect(d.alerts).toEqual(['duplicate_booking']);
  });

  it('a later attempt that finds nothing creates again, then checks for a late duplicate', async () => {
    const d = dispatcher({ start: 'again', lookup: [] });
    expect(path(await d.run(record(request(), 2, 'req.retry-1s')))).toEqual([
      'RETRY_SCHEDULED->DISPATCHING',
      'DISPATCHING->CONFIRMED',
      'pend:duplicate-check',
    ]);
    expect(d.calls.creates).toBe(1);
  });

  it('a later attempt whose look-up fails: no create, a retry', async () => {
    const d = dispatcher({ start: 'again', lookup: new Error('503') });
    const out = await d.run(record(request(), 2, 'req.retry-1s'));
    expect(path(out)).toEqual([
      'RETRY_SCHEDULED->DISPATCHING',
      'DISPATCHING->RETRY_SCHEDULED',
      'req.retry-4s',
    ]);
    expect(out[2]?.headers).toMatchObject({ [HEADERS.errorClass]: 'LOOKUP_FAILED' });
    expect(d.calls.creates).toBe(0);
  });

  it('the lock is released when the provider call throws', async () => {
    const d = dispatcher({ create: new TypeError('bug') });
    await expect(d.run(record(request()))).rejects.toThrow('bug');
    expect(d.calls.ended).toBe(1);
  });
});
