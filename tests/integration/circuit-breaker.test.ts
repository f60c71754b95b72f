// The circuit opens when the failure rate over its window passes the threshold, sends work down the retry
// path without calling while open, and recovers through half-open.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/helpers.js';
import { type Pipeline, requestBody, startPipeline } from '../support/pipeline.js';

let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline('circuit', {
    retryDelaysMs: [200, 400],
    dispatch: {
      CIRCUIT_FAILURE_RATE: '0.5',
      CIRCUIT_WINDOW: '4',
      CIRCUIT_MIN_CALLS: '3',
      CIRCUIT_HALF_OPEN_AFTER_MS: '1500',
      MAX_ATTEMPTS: '20',
    },
  });
});
afterAll(async () => {
  await p?.stop();
});

const circuitGauge = async () =>
  Number(/^booking_circuit_state\{[^}]*\} (\d)$/m.exec(await p.metrics())?.[1]);
const submit = async (calendarId: string) => {
  const res = await p.submit(requestBody(calendarId), `key-${randomUUID()}`);
  expect(res.status).toBe(202);
  return ((await res.json()) as { appointmentId: string }).appointmentId;
};

describe('circuit breaker', () => {
  it('opens once 3 calls in a window of 4 failed (more than half), holds calls while open, recovers through half-open', async () => {
    expect(await circuitGauge()).toBe(0);
    // cal-flaky-3: three 503s in a row (the threshold), then healthy again. Whichever appointment
    // takes the single half-open trial call succeeds, so the test does not race.
    const failing = await submit(`cal-flaky-3-${randomUUID().slice(0, 8)}`);
    await waitFor('the circuit to open', async () => (await circuitGauge()) === 1);
    expect(p.dispatch!.circuit.state).toBe('open');
    expect(p.logs.dispatch.some((l) => l.msg === 'circuit open')).toBe(true);
    expect((await p.calls({ method: 'POST', externalRef: failing })).map((c) => c.status)).toEqual([
      503, 503, 503,
    ]);

    // While open: a healthy calendar's request is scheduled for retry without any call.
    const healthy = await submit(`cal-immediate-${randomUUID().slice(0, 8)}`);
    await waitFor('a retry without a call', async () => {
      const v = await p.view(healthy);
      return v?.history.some((h) => h.reason === 'CIRCUIT_OPEN') ?? false;
    });
    expect(p.dispatch!.circuit.state).toBe('open');
    expect(await p.calls({ method: 'POST', externalRef: healthy })).toEqual([]);

    // After the pause one trial call goes through (half-open); it succeeds and the circuit closes.
    const view = await p.waitForState(healthy, 'CONFIRMED', 30_000);
    expect(view.history.filter((h) => h.reason === 'CIRCUIT_OPEN').length).toBeGreaterThanOrEqual(1);
    await waitFor('the circuit to close', async () => (await circuitGauge()) === 0);
    expect(p.logs.dispatch.some((l) => l.msg === 'circuit half-open')).toBe(true);
    expect(p.logs.dispatch.some((l) => l.msg === 'circuit closed')).toBe(true);
    expect(await p.ledger(healthy)).toHaveLength(1);
    await p.waitForState(failing, 'CONFIRMED', 30_000);
    expect((await p.calls({ method: 'POST', externalRef: failing })).map((c) => c.status)).toEqual([
      503, 503, 503, 201,
    ]);
  });

  it('leaves the ledger with no slot booked twice', async () => {
    expect(await p.ledger()).not.toEqual([]);
    expect(await p.doubleBooked()).toEqual([]);
  });
});
