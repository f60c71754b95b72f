// The idempotency keys, the attempt markers and the projection live in Redis: a Redis that forgets
// them on a restart lets a redelivered request book a second time. So a service that uses Redis
// checks at start that it persists its writes (AOF on) and refuses to start otherwise, unless
// REDIS_ALLOW_NO_PERSISTENCE=true says the Redis is a throwaway one (a test, a laptop).
// RDB snapshots alone do not count: a crash loses everything written since the last one.
import type { Redis } from 'ioredis';
import { ConfigError } from './errors.js';

/** `INFO persistence` as fields (`aof_enabled` → `1`). */
export function persistenceFields(info: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of info.split(/\r?\n/)) {
    const at = line.indexOf(':');
    if (at > 0 && !line.startsWith('#')) out[line.slice(0, at)] = line.slice(at + 1).trim();
  }
  return out;
}

/** Why this Redis does not keep what it is told, or undefined when it does (AOF on). */
export function persistenceProblem(fields: Record<string, string>): string | undefined {
  if (fields.aof_enabled === '1') return undefined;
  return `REDIS_URL: the Redis has no append-only file (aof_enabled:${fields.aof_enabled ?? '?'}): a restart would lose the idempotency keys written since its last snapshot, and a redelivered request would book again. Run it with appendonly yes (./stack/stack.sh does), or set REDIS_ALLOW_NO_PERSISTENCE=true for a throwaway Redis`;
}

/** Throws a ConfigError unless the Redis persists or the operator said it need not. */
export async function requireDurableRedis(redis: Redis, allowNone: boolean): Promise<void> {
  if (allowNone) return;
  let info: string;
  try {
    info = await redis.info('persistence');
  } catch (err) {
    if (/WRONGPASS|NOAUTH|invalid username-password/i.test((err as Error).message))
      throw new ConfigError([
        'REDIS_URL: Redis refused the credentials: check REDIS_USERNAME and REDIS_PASSWORD (or REDIS_PASSWORD_FILE), or the user and password in REDIS_URL',
      ]);
    throw new ConfigError([
      `REDIS_URL: INFO persistence failed (${(err as Error).message}), so whether the Redis persists cannot be told; allow INFO to this user, or set REDIS_ALLOW_NO_PERSISTENCE=true`,
    ]);
  }
  const problem = persistenceProblem(persistenceFields(info));
  if (problem) throw new ConfigError([problem]);
}
