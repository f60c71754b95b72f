import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildMockApp } from './app.js';
import { behaviourOf } from './behaviour.js';

const token = 'test-token';
const auth = { authorization: `Bearer ${token}` };
const body = (calendarId: string, externalRef = 'apt-1') => ({
  externalRef,
  calendarId,
  slot: { start: '2031-01-01T09:00:00+00:00', end: '2031-01-01T09:30:00+00:00', timezone: 'Europe/London' },
  patient: { ref: 'p-1', displayName: 'P. One' },
});

let app = buildMockApp({ token, pendingMs: 50, delayMs: 30 });
afterEach(async () => {
  await app.close();
  app = buildMockApp({ token, pendingMs: 50, delayMs: 30 });
});

const create = (calendarId: string, externalRef?: string) =>
  app.inject({
    method: 'POST',
    url: '/api/v2/appointments',
    headers: auth,
    payload: body(calendarId, externalRef),
  });
const ledger = async () =>
  (await app.inject({ url: '/__mock/ledger' })).json().bookings as { status: string }[];

describe('provider mock', () => {
  it('picks behaviours by the longest matching prefix', () => {
    expect(behaviourOf('cal-pending-rejected-x')).toBe('pending-rejected');
    expect(behaviourOf('cal-pending-x')).toBe('pending');
    expect(behaviourOf('cal-anything')).toBe('immediate');
  });

  it('refuses a missing or wrong token with 401', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v2/appointments',
      payload: body('cal-immediate-1'),
    });
    expect(res.statusCode).toBe(401);
    const wrong = await app.inject({
      url: '/api/v2/appointments/x',
      headers: { authorization: 'Bearer nope' },
    });
    expect(wrong.statusCode).toBe(401);
  });

  it('needs the token on the route whatever the spelling of its path (issue 12)', async () => {
    for (const url of ['/%61pi/v2/appointments', '/api/v%32/appointments', '/api/%76%32/appointments']) {
      const res = await app.inject({ method: 'POST', url, payload: body('cal-immediate-x') });
      expect(res.statusCode, url).toBe(401);
    }
    expect((await app.inject({ method: 'GET', url: '/api/v2/appointments?externalRef=x' })).statusCode).toBe(
      401,
    );
  });

  it('resets only for a caller on this machine', async () => {
    const away = await app.inject({ method: 'POST', url: '/__mock/reset', remoteAddress: '10.1.2.3' });
    expect(away.statusCode).toBe(403);
    const here = await app.inject({ method: 'POST', url: '/__mock/reset' });
    expect(here.statusCode).toBe(200);
  });

  it('answers 400 with details for a bad body', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v2/appointments',
      headers: auth,
      payload: { calendarId: 'c' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().details).toContain('externalRef: 1..64 chars');
  });

  it('immediate: 201 CONFIRMED; a second create books twice (no overlap check)', async () => {
    expect((await create('cal-immediate-a')).statusCode).toBe(201);
    expect((await create('cal-immediate-a')).statusCode).toBe(201);
    expect(await ledger()).toHaveLength(2);
  });

  it('pending: 202, then CONFIRMED through GET; pending-rejected resolves REJECTED', async () => {
    const res = await create('cal-pending-a');
    expect(res.statusCode).toBe(202);
    const { bookingId, retryAfterMs } = res.json();
    expect(retryAfterMs).toBeGreaterThan(0);
    const rej = (await create('cal-pending-rejected-a', 'apt-2')).json().bookingId;
    const get = async (id: string) =>
      (await app.inject({ url: `/api/v2/appointments/${id}`, headers: auth })).json().status;
    expect(await get(bookingId)).toBe('PENDING');
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() + 51); // past pendingMs = 50
      expect(await get(bookingId)).toBe('CONFIRMED');
      expect(await get(rej)).toBe('REJECTED');
    } finally {
      vi.useRealTimers();
    }
  });

  it('flaky(n): n 503s then 201, counted per appointment; always-fail and slot-taken', async () => {
    const codes = [];
    for (let i = 0; i < 4; i++) codes.push((await create('cal-flaky-3-x')).statusCode);
    expect(codes).toEqual([503, 503, 503, 201]);
    expect((await create('cal-flaky-x', 'apt-9')).statusCode).toBe(503);
    expect((await create('cal-always-fail-x')).statusCode).toBe(503);
    const taken = await create('cal-slot-taken-x');
    expect(taken.statusCode).toBe(409);
    expect(taken.json()).toEqual({ error: 'SLOT_UNAVAILABLE' });
  });

  it('rate-limited: 429 with Retry-After, then 201', async () => {
    const first = await create('cal-rate-limited-x');
    expect(first.statusCode).toBe(429);
    expect(first.headers['retry-after']).toBe('1');
    expect((await create('cal-rate-limited-x')).statusCode).toBe(201);
  });

  it('delayed: the booking exists before the answer comes', async () => {
    const pending = create('cal-delayed-x');
    const res = await pending;
    expect(res.statusCode).toBe(201);
    expect(await ledger()).toHaveLength(1);
  });

  it('finds bookings by externalRef and cancels idempotently', async () => {
    const { bookingId } = (await create('cal-immediate-q', 'apt-q')).json();
    const found = await app.inject({ url: '/api/v2/appointments?externalRef=apt-q', headers: auth });
    expect(found.json().items.map((b: { bookingId: string }) => b.bookingId)).toEqual([bookingId]);
    for (let i = 0; i < 2; i++) {
      const del = await app.inject({
        method: 'DELETE',
        url: `/api/v2/appointments/${bookingId}`,
        headers: auth,
      });
      expect(del.statusCode).toBe(200);
      expect(del.json()).toEqual({ status: 'CANCELLED' });
    }
    expect(
      (await app.inject({ method: 'DELETE', url: '/api/v2/appointments/nope', headers: auth })).statusCode,
    ).toBe(404);
  });

  it('finds every booking an externalRef made, and none after a reset', async () => {
    const first = (await create('cal-immediate-r1', 'apt-r')).json().bookingId;
    const second = (await create('cal-immediate-r2', 'apt-r')).json().bookingId;
    await create('cal-immediate-r3', 'apt-other');
    const found = async () =>
      (await app.inject({ url: '/api/v2/appointments?externalRef=apt-r', headers: auth }))
        .json()
        .items.map((b: { bookingId: string }) => b.bookingId);
    expect(await found()).toEqual([first, second]);
    await app.inject({ method: 'POST', url: '/__mock/reset' });
    expect(await found()).toEqual([]);
  });

  it('ghost: commits the booking and drops the connection without an answer', async () => {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as { port: number };
    const res = fetch(`http://127.0.0.1:${port}/api/v2/appointments`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify(body('cal-ghost-x')),
    });
    await expect(res).rejects.toThrow();
    expect(await ledger()).toHaveLength(1);
    const calls = (await app.inject({ url: '/__mock/calls' })).json().calls;
    expect(calls.at(-1)).toMatchObject({ status: 'dropped', calendarId: 'cal-ghost-x' });
  });

  it('outage down: every call 503 and nothing booked, until it is lifted', async () => {
    const set = (payload: object) => app.inject({ method: 'POST', url: '/__mock/outage', payload });
    expect((await set({ mode: 'down' })).statusCode).toBe(200);
    expect((await create('cal-immediate-o')).statusCode).toBe(503);
    expect(await ledger()).toHaveLength(0);
    expect((await set({ mode: 'sideways' })).statusCode).toBe(400);
    expect((await set({ mode: 'slow', slowMs: 0 })).statusCode).toBe(400);
    await set({ mode: 'none' });
    expect((await create('cal-immediate-o')).statusCode).toBe(201);
  });

  it('outage slow: books at once and answers late (a client that gives up first does not know)', async () => {
    await app.inject({ method: 'POST', url: '/__mock/outage', payload: { mode: 'slow', slowMs: 5_000 } });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as { port: number };
    const res = fetch(`http://127.0.0.1:${port}/api/v2/appointments`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify(body('cal-immediate-s')),
      signal: AbortSignal.timeout(300),
    });
    await expect(res).rejects.toThrow();
    expect(await ledger()).toHaveLength(1);
    await app.inject({ method: 'POST', url: '/__mock/outage', payload: { mode: 'none' } });
  });

  it('honours Idempotency-Key only when configured', async () => {
    await app.close();
    app = buildMockApp({ token, honourIdempotencyKey: true });
    const headers = { ...auth, 'idempotency-key': 'k-1' };
    const a = await app.inject({
      method: 'POST',
      url: '/api/v2/appointments',
      headers,
      payload: body('cal-immediate-k'),
    });
    const b = await app.inject({
      method: 'POST',
      url: '/api/v2/appointments',
      headers,
      payload: body('cal-immediate-k'),
    });
    expect(b.json().bookingId).toBe(a.json().bookingId);
    expect(await ledger()).toHaveLength(1);
  });
});
