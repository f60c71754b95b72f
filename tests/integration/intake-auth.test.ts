// Issue 12: authentication belongs to the route. Each finding below answered otherwise before:
// `POST /%761/appointments` without a key booked (202), `GET /v1/appointments/counts` answered 503,
// JSON sent as text/plain answered 400 "(body) required"; every key shared one idempotency space and
// nothing limited a key's rate.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/helpers.js';
import { API_KEY, type Pipeline, requestBody, startPipeline } from '../support/pipeline.js';

const KEY_A = `key-a-${randomUUID()}`;
const KEY_B = `key-b-${randomUUID()}`;
const LIMIT = 30;
let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline('intake-auth', {
    // API_KEY too: the harness reads states with it (a third key, its own limit).
    intake: { INTAKE_API_KEYS: `${API_KEY},${KEY_A},${KEY_B}`, RATE_LIMIT_PER_MINUTE: String(LIMIT) },
  });
});
afterAll(async () => {
  await p?.stop();
});

const call = (path: string, init: RequestInit & { key?: string } = {}) =>
  fetch(`${p.intakeUrl}${path}`, {
    ...init,
    headers: {
      'content-type': 'application/json',
      ...(init.key ? { authorization: `Bearer ${init.key}` } : {}),
      ...(init.headers ?? {}),
    },
  });
const book = (key: string, idempotencyKey: string, body = requestBody('cal-immediate-auth')) =>
  call('/v1/appointments', {
    method: 'POST',
    key,
    body: JSON.stringify(body),
    headers: { 'idempotency-key': idempotencyKey },
  });

describe('intake: authentication on routes, key scopes, rate limit', () => {
  it('refuses an encoded path without a key: the route needs the key, whatever its spelling', async () => {
    for (const path of ['/%761/appointments', '/v%31/appointments', '/%76%31/appointments']) {
      const res = await call(path, {
        method: 'POST',
        body: JSON.stringify(requestBody('cal-immediate-auth')),
        headers: { 'idempotency-key': `enc-${randomUUID()}` },
      });
      expect(res.status, path).toBe(401);
    }
    const read = await call('/%761/appointments/00000000-0000-8000-8000-000000000000');
    expect(read.status).toBe(401);
  });

  it('answers 404 for an id that is no appointment id, and 415 for JSON sent as text/plain', async () => {
    expect((await call('/v1/appointments/counts', { key: KEY_A })).status).toBe(404);
    const plain = await call('/v1/appointments', {
      method: 'POST',
      key: KEY_A,
      body: JSON.stringify(requestBody('cal-immediate-auth')),
      headers: { 'content-type': 'text/plain', 'idempotency-key': `plain-${randomUUID()}` },
    });
    expect(plain.status).toBe(415);
  });

  it('accepts every configured key (rotation), each with its own idempotency space and view', async () => {
    const shared = `shared-${randomUUID()}`;
    const a = await book(KEY_A, shared);
    const b = await book(KEY_B, shared, requestBody('cal-immediate-auth-other'));
    expect(a.status).toBe(202);
    expect(b.status).toBe(202); // another key: not a reuse of A's key with another body (422)
    const idA = ((await a.json()) as { appointmentId: string }).appointmentId;
    const idB = ((await b.json()) as { appointmentId: string }).appointmentId;
    expect(idA).not.toBe(idB);
    await p.waitForState(idA, 'CONFIRMED');
    const byA = await call(`/v1/appointments?idempotencyKey=${shared}`, { key: KEY_A });
    expect(((await byA.json()) as { appointmentId: string }).appointmentId).toBe(idA);
    await p.waitForState(idB, 'CONFIRMED');
    const byB = await call(`/v1/appointments?idempotencyKey=${shared}`, { key: KEY_B });
    expect(((await byB.json()) as { appointmentId: string }).appointmentId).toBe(idB);
  });

  it('carries no unbounded correlation id or malformed trace context onward', async () => {
    const res = await call('/v1/appointments', {
      method: 'POST',
      key: KEY_B,
      body: JSON.stringify(requestBody('cal-immediate-auth-corr')),
      headers: {
        'idempotency-key': `corr-${randomUUID()}`,
        'x-correlation-id': 'c'.repeat(5000),
        traceparent: 'garbage',
      },
    });
    expect(res.status).toBe(202);
    const id = ((await res.json()) as { appointmentId: string }).appointmentId;
    const line = await waitFor('the accepted line', () =>
      p.logs.intake.find((l) => l.appointmentId === id && l.msg === 'accepted'),
    );
    expect(String(line.correlationId).length).toBeLessThanOrEqual(128);
  });

  it('limits each key separately: 429 with Retry-After past the limit, the other key unaffected', async () => {
    let limited: Response | undefined;
    for (let i = 0; i < LIMIT + 5 && !limited; i++) {
      const res = await call('/v1/appointments/00000000-0000-8000-8000-000000000000', { key: KEY_A });
      if (res.status === 429) limited = res;
    }
    expect(limited?.status).toBe(429);
    expect(Number(limited?.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await limited!.json()) as { error: string }).error).toBe('RATE_LIMITED');
    expect((await call('/v1/appointments/00000000-0000-8000-8000-000000000000', { key: KEY_B })).status).toBe(
      404,
    );
  });
});
