// The booking flow end to end on the real stack: HTTP intake -> provider-dispatch -> provider mock.
// Each scenario asserts the outcome, what an operator would see (lifecycle history, a log line
// with the appointmentId, a metric), and the mock's ledger: no slot is ever booked twice.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Pipeline, requestBody, startPipeline } from '../support/pipeline.js';

let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline('flow');
});
afterAll(async () => {
  await p?.stop();
});

const cal = (prefix: string) => `${prefix}${randomUUID().slice(0, 8)}`;
const key = () => `key-${randomUUID()}`;

async function submitOk(calendarId: string, overrides: Record<string, unknown> = {}) {
  const res = await p.submit(requestBody(calendarId, overrides), key());
  expect(res.status).toBe(202);
  const body = (await res.json()) as { appointmentId: string; state: string };
  expect(body.state).toBe('REQUESTED');
  expect(res.headers.get('location')).toBe(`/v1/appointments/${body.appointmentId}`);
  return body.appointmentId;
}

const path = (history: { to: string }[]) => history.map((h) => h.to);
const posts = async (externalRef: string) => (await p.calls({ method: 'POST', externalRef })).length;
const metricValue = (text: string, name: string, labels: string) =>
  Number(new RegExp(`^${name}\\{[^}]*${labels}[^}]*\\} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
const logged = (id: string, msg: string) =>
  p.logs.dispatch.some((l) => l.appointmentId === id && typeof l.msg === 'string' && l.msg.includes(msg));

describe('booking flow', () => {
  it('healthy immediate: REQUESTED -> DISPATCHING -> CONFIRMED, one booking, one call', async () => {
    const id = await submitOk(cal('cal-immediate-'));
    const view = await p.waitForState(id, 'CONFIRMED');
    expect(path(view.history)).toEqual(['REQUESTED', 'DISPATCHING', 'CONFIRMED']);
    // The trail names the door the request came in by (it said "via Kafka" for HTTP once).
    expect(view.history[0]).toMatchObject({ reason: 'accepted via HTTP' });
    const ledger = await p.ledger(id);
    expect(ledger).toHaveLength(1);
    expect(ledger[0]).toMatchObject({ status: 'CONFIRMED', bookingId: view.bookingId });
    expect(await posts(id)).toBe(1);
    expect(logged(id, 'DISPATCHING -> CONFIRMED')).toBe(true);
    expect(
      metricValue(await p.metrics(), 'booking_transitions_total', 'to="CONFIRMED"'),
    ).toBeGreaterThanOrEqual(1);
  });

  it('pending -> confirmed through polls of the delay topic', async () => {
    const id = await submitOk(cal('cal-pending-'));
    const view = await p.waitForState(id, 'CONFIRMED');
    expect(path(view.history)).toEqual(['REQUESTED', 'DISPATCHING', 'PENDING_PROVIDER', 'CONFIRMED']);
    expect(await p.ledger(id)).toEqual([
      expect.objectContaining({ status: 'CONFIRMED', bookingId: view.bookingId }),
    ]);
    expect(await posts(id)).toBe(1);
    expect((await p.calls({ method: 'GET' })).some((c) => c.path.includes(view.bookingId!))).toBe(true);
  });

  it('pending -> rejected', async () => {
    const id = await submitOk(cal('cal-pending-rejected-'));
    const view = await p.waitForState(id, 'REJECTED');
    expect(path(view.history)).toEqual(['REQUESTED', 'DISPATCHING', 'PENDING_PROVIDER', 'REJECTED']);
    expect(await p.ledger(id)).toEqual([expect.objectContaining({ status: 'REJECTED' })]);
  });

  it('flaky(2): confirmed after exactly 3 creates, the gaps following the retry schedule', async () => {
    const id = await submitOk(cal('cal-flaky-2-'));
    const view = await p.waitForState(id, 'CONFIRMED');
    expect(path(view.history)).toEqual([
      'REQUESTED',
      'DISPATCHING',
      'RETRY_SCHEDULED',
      'DISPATCHING',
      'RETRY_SCHEDULED',
      'DISPATCHING',
      'CONFIRMED',
    ]);
    const creates = await p.calls({ method: 'POST', externalRef: id });
    expect(creates.map((c) => c.status)).toEqual([503, 503, 201]);
    // Schedule 300 ms then 1200 ms, jitter ±20%: a retry never comes early, and the second waits
    // on the longer tier.
    const gap1 = creates[1]!.at - creates[0]!.at;
    const gap2 = creates[2]!.at - creates[1]!.at;
    expect(gap1).toBeGreaterThanOrEqual(240);
    expect(gap1).toBeLessThan(960);
    expect(gap2).toBeGreaterThanOrEqual(960);
    expect(await p.ledger(id)).toHaveLength(1);
    expect(view.attempts).toBe(3);
  });

  it('always-fail: DLT after the maximum attempts, with its reason, and no booking', async () => {
    const id = await submitOk(cal('cal-always-fail-'));
    // Dead-lettered, then settled by the reconciler: no booking exists, so FAILED.
    const view = await p.waitForState(id, 'FAILED');
    const dead = view.history.find((h) => h.to === 'DEAD_LETTERED');
    expect(dead?.reason).toBe('RETRIES_EXHAUSTED');
    expect(path(view.history).slice(-3)).toEqual(['DEAD_LETTERED', 'RECONCILING', 'FAILED']);

    expect(await posts(id)).toBe(3);
    expect(await p.ledger(id)).toEqual([]);
    expect(
      metricValue(await p.metrics(), 'booking_dead_letters_total', 'reason="RETRIES_EXHAUSTED"'),
    ).toBeGreaterThanOrEqual(1);
  });

  it('slot-taken: REJECTED after 1 call, never retried', async () => {
    const id = await submitOk(cal('cal-slot-taken-'));
    const view = await p.waitForState(id, 'REJECTED');
    expect(path(view.history)).toEqual(['REQUESTED', 'DISPATCHING', 'REJECTED']);
    expect(await posts(id)).toBe(1);
    expect(await p.ledger(id)).toEqual([]);
  });

  it('rate-limited: the retry honours Retry-After', async () => {
    const id = await submitOk(cal('cal-rate-limited-'));
    await p.waitForState(id, 'CONFIRMED');
    const creates = await p.calls({ method: 'POST', externalRef: id });
    expect(creates.map((c) => c.status)).toEqual([429, 201]);
    expect(creates[1]!.at - creates[0]!.at).toBeGreaterThanOrEqual(1000); // Retry-After: 1
    expect(await p.ledger(id)).toHaveLength(1);
  });

  it('delayed past the timeout: the look-up adopts the booking, no second create', async () => {
    const id = await submitOk(cal('cal-delayed-'));
    const view = await p.waitForState(id, 'CONFIRMED');
    expect(view.history.some((h) => h.to === 'RETRY_SCHEDULED' && h.reason === 'PROVIDER_TIMEOUT')).toBe(
      true,
    );
    expect(await posts(id)).toBe(1);
    const ledger = await p.ledger(id);
    expect(ledger).toHaveLength(1);
    expect(view.bookingId).toBe(ledger[0]!.bookingId);
    expect(view.history.at(-1)?.reason).toBe('adopted existing booking');
  });

  it('ghost (booked, answer lost): the look-up adopts the booking, no second create', async () => {
    const id = await submitOk(cal('cal-ghost-'));
    const view = await p.waitForState(id, 'CONFIRMED');
    expect(view.history.some((h) => h.reason === 'CONNECTION_LOST')).toBe(true);
    expect(await posts(id)).toBe(1);
    expect(await p.ledger(id)).toEqual([
      expect.objectContaining({ bookingId: view.bookingId, status: 'CONFIRMED' }),
    ]);
  });

  it('50 concurrent identical submits: one appointment, one booking', async () => {
    const body = requestBody(cal('cal-immediate-'));
    const k = key();
    const responses = await Promise.all(Array.from({ length: 50 }, () => p.submit(body, k)));
    const statuses = responses.map((r) => r.status);
    expect(statuses.every((s) => s === 202 || s === 409)).toBe(true);
    const ids = new Set(
      await Promise.all(
        responses
          .filter((r) => r.status === 202)
          .map(async (r) => ((await r.json()) as { appointmentId: string }).appointmentId),
      ),
    );
    expect(ids.size).toBe(1);
    const [id] = [...ids];
    await p.waitForState(id!, 'CONFIRMED');
    expect(await p.ledger(id)).toHaveLength(1);
    expect(await posts(id!)).toBe(1);
    // A later retry of the same request replays the stored answer.
    const again = await p.submit(body, k);
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(((await again.json()) as { appointmentId: string }).appointmentId).toBe(id);
  });

  it('leaves every invariant holding: terminal states, one booking per CONFIRMED, a complete audit trail', async () => {
    const report = await p.invariantsHold();
    expect(report.appointments).toBeGreaterThanOrEqual(10);
    expect(report.terminal.CONFIRMED).toBeGreaterThanOrEqual(6);
    expect(report.mismatches).toEqual({
      confirmedWithoutBooking: [],
      bookingWithoutConfirmed: [],
      multipleBookings: [],
    });
  });

  it('leaves the ledger with no slot booked twice', async () => {
    expect(await p.ledger()).not.toEqual([]);
    expect(await p.doubleBooked()).toEqual([]);
  });
});
