// Issue 14 (the chaos matrix's broker kill): an accept whose transaction was still being retried
// when its "accepting" claim expired let the client's retry take the key over and be accepted
// again; both transactions committed and the appointment was requested twice, with two outcomes.
// The claim now lives as long as the transaction may commit. On the real Redis: a claim with a
// short TTL outlives several TTLs while its send is pending, and expires once the send has settled.
import { randomUUID } from 'node:crypto';
import { keepClaimWhile } from '@booking/intake';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisClient } from '../support/helpers.js';

let redis: Redis;
beforeAll(() => {
  redis = redisClient();
});
afterAll(async () => {
  await redis?.quit();
});

const waitUntil = async (cond: () => Promise<boolean> | boolean, boundMs: number) => {
  const deadline = Date.now() + boundMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${boundMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('an accepting claim kept while its transaction may commit', () => {
  it('outlives several TTLs while the send is pending and expires after it settled', {
    timeout: 30_000,
  }, async () => {
    const key = `it:claim-keepalive:${randomUUID()}`;
    const value = JSON.stringify({ s: 'accepting', n: randomUUID() });
    const ttlMs = 600;
    await redis.set(key, value, 'PX', ttlMs, 'NX');
    let settle!: () => void;
    const pending = new Promise<void>((r) => {
      settle = r;
    });
    keepClaimWhile(redis, key, value, ttlMs, pending);
    const started = Date.now();
    // Four TTLs pass with the send pending: the claim is still there, still ours.
    await waitUntil(() => Date.now() - started > 4 * ttlMs, 10_000);
    expect(await redis.get(key)).toBe(value);
    settle();
    // Settled: no longer renewed, it expires on its own.
    await waitUntil(async () => (await redis.exists(key)) === 0, 10 * ttlMs);
  });

  it("stops renewing a claim that is no longer this request's", { timeout: 30_000 }, async () => {
    const key = `it:claim-keepalive:${randomUUID()}`;
    const ttlMs = 600;
    await redis.set(key, 'someone else', 'PX', 60_000);
    keepClaimWhile(redis, key, 'mine', ttlMs, new Promise(() => undefined));
    const started = Date.now();
    await waitUntil(() => Date.now() - started > 2 * ttlMs, 10_000);
    expect(await redis.get(key)).toBe('someone else');
    await redis.del(key);
  });
});
