// Idempotency claims in Redis: `SET key value NX PX ttl` decides one winner atomically.
// The TTL must cover the whole retry and replay window (house rule 3).
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { type RedisScript, runScript } from './redis-scripts.js';

export interface ClaimResult {
  /** True when this caller set the key. */
  won: boolean;
  /** The value already held by someone else when `won` is false. */
  holder: string | null;
}

/** `idem:<scope>:<sha256 of parts>`: raw keys (which may carry PII) never reach Redis. */
export function claimKeyFor(scope: string, ...parts: string[]): string {
  const digest = createHash('sha256').update(parts.join('\u0000')).digest('hex');
  return `idem:${scope}:${digest}`;
}

/**
 * Claims `key` for `ttlMs`. With GET (Redis >= 7), one round trip also returns the holder's
 * value when the claim is lost.
 */
export async function claim(redis: Redis, key: string, value: string, ttlMs: number): Promise<ClaimResult> {
  const previous = (await redis.call('SET', key, value, 'PX', String(ttlMs), 'NX', 'GET')) as string | null;
  return previous === null ? { won: true, holder: null } : { won: false, holder: previous };
}

/** Claims many keys in one pipelined round trip (batch consumers). Results keep input order. */
export async function claimMany(
  redis: Redis,
  entries: readonly { key: string; value: string; ttlMs: number }[],
): Promise<ClaimResult[]> {
  if (entries.length === 0) return [];
  const pipeline = redis.pipeline();
  for (const e of entries) pipeline.call('SET', e.key, e.value, 'PX', String(e.ttlMs), 'NX', 'GET');
  const replies = (await pipeline.exec()) ?? [];
  return replies.map(([err, previous]) => {
    if (err) throw err;
    return previous === null ? { won: true, holder: null } : { won: false, holder: previous as string };
  });
}

const COMPARE_AND_SET: RedisScript = {
  name: 'bookingCompareAndSet',
  keys: 1,
  lua: `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return nil`,
};

const COMPARE_AND_DELETE: RedisScript = {
  name: 'bookingCompareAndDelete',
  keys: 1,
  lua: `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`,
};

/** Replaces the value only while we still hold it (e.g. "accepting" → the stored response). */
export async function replaceClaim(
  redis: Redis,
  key: string,
  expected: string,
  next: string,
  ttlMs: number,
): Promise<boolean> {
  return (await runScript(redis, COMPARE_AND_SET, [key], [expected, next, String(ttlMs)])) !== null;
}

/**
 * After the side effect succeeded: our claim becomes `next`. `held` when it was still ours;
 * `re-established` when it had expired (nobody held it; it now says `next`); `taken` when someone
 * else holds the key. Only `held` means nothing could have happened to the key meanwhile.
 */
export async function settleClaim(
  redis: Redis,
  key: string,
  expected: string,
  next: string,
  ttlMs: number,
): Promise<'held' | 're-established' | 'taken'> {
  if (await replaceClaim(redis, key, expected, next, ttlMs)) return 'held';
  return (await claim(redis, key, next, ttlMs)).won ? 're-established' : 'taken';
}

/** Releases a claim only if we still hold it (a failed side effect may be tried again). */
export async function releaseClaim(redis: Redis, key: string, value: string): Promise<boolean> {
  return (await runScript(redis, COMPARE_AND_DELETE, [key], [value])) === 1;
}
