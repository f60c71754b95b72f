// Redis SET NX PX decides exactly one winner, even when claims race on separate connections.
import { claim, claimKeyFor, claimMany, releaseClaim, replaceClaim } from '@booking/kit';
import { afterAll, describe, expect, it } from 'vitest';
import { redisClient, unique } from '../support/helpers.js';

describe('idempotency claims on the real Redis', () => {
  const a = redisClient();
  const b = redisClient();
  afterAll(async () => {
    a.disconnect();
    b.disconnect();
  });

  it('lets exactly one of two concurrent claims of one key win', async () => {
    const key = claimKeyFor('test', unique('key'));
    const [first, second] = await Promise.all([
      claim(a, key, 'owner-a', 60_000),
      claim(b, key, 'owner-b', 60_000),
    ]);
    const results = [first, second];
    expect(results.filter((r) => r.won)).toHaveLength(1);
    const loser = results.find((r) => !r.won)!;
    const winner = first.won ? 'owner-a' : 'owner-b';
    expect(loser.holder).toBe(winner);
    expect(await a.get(key)).toBe(winner);
    expect(await a.pttl(key)).toBeGreaterThan(0);
  });

  it('lets exactly one of many concurrent claimants win', async () => {
    const key = claimKeyFor('test', unique('key'));
    const clients = [a, b];
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => claim(clients[i % 2]!, key, `owner-${i}`, 60_000)),
    );
    expect(results.filter((r) => r.won)).toHaveLength(1);
    expect(new Set(results.filter((r) => !r.won).map((r) => r.holder)).size).toBe(1);
  });

  it('claims a batch in one pipeline, keeping input order', async () => {
    const taken = claimKeyFor('test', unique('key'));
    await claim(a, taken, 'earlier', 60_000);
    const fresh = claimKeyFor('test', unique('key'));
    const results = await claimMany(b, [
      { key: fresh, value: 'v1', ttlMs: 60_000 },
      { key: taken, value: 'v2', ttlMs: 60_000 },
    ]);
    expect(results).toEqual([
      { won: true, holder: null },
      { won: false, holder: 'earlier' },
    ]);
  });

  it('replaces or releases a claim only for its holder', async () => {
    const key = claimKeyFor('test', unique('key'));
    await claim(a, key, 'accepting', 60_000);
    expect(await replaceClaim(b, key, 'someone-else', 'x', 60_000)).toBe(false);
    expect(await replaceClaim(b, key, 'accepting', 'response', 60_000)).toBe(true);
    expect(await a.get(key)).toBe('response');
    expect(await releaseClaim(a, key, 'accepting')).toBe(false);
    expect(await releaseClaim(a, key, 'response')).toBe(true);
    expect((await claim(b, key, 'again', 60_000)).won).toBe(true);
  });

  it('never stores the raw key', () => {
    const key = claimKeyFor('intake', 'clinic-a', 'patient-visible-key-123');
    expect(key).toMatch(/^idem:intake:[0-9a-f]{64}$/);
    expect(key).not.toContain('patient-visible');
  });
});
