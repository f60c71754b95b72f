// Dispatch's attempt guard on the real Redis (issue 14): one script takes the lock, records the
// attempt and marks "sent once"; an attempt older than the latest begun is refused as stale, so a
// record read again after a crash or a rebalance cannot emit moves from a state its appointment
// has left. The same attempt read again (a crash before its commit) still runs, as "again".
import { randomUUID } from 'node:crypto';
import { redisAttemptGuard } from '@booking/provider-dispatch';
import { afterAll, describe, expect, it } from 'vitest';
import { redisClient } from '../support/helpers.js';

const redis = redisClient();
const guard = redisAttemptGuard(redis, { lockTtlMs: 30_000, markerTtlMs: 60_000 });
afterAll(() => redis.disconnect());

describe('dispatch attempt guard', () => {
  it('first, again, busy while held, and stale once a later attempt has begun', async () => {
    const id = randomUUID();
    expect(await guard.begin(id, 'h1', 1)).toBe('first');
    expect(await guard.begin(id, 'h2', 1)).toBe('busy');
    await guard.end(id, 'h1');
    expect(await guard.begin(id, 'h1', 1)).toBe('again'); // attempt 1 read again before its commit
    await guard.end(id, 'h1');
    expect(await guard.begin(id, 'h3', 2)).toBe('again');
    await guard.end(id, 'h3');
    expect(await guard.begin(id, 'h4', 1)).toBe('stale'); // attempt 1 after attempt 2 began
    expect(await redis.exists(`lock:dispatch:${id}`)).toBe(0); // a stale attempt takes no lock
    expect(await guard.begin(id, 'h5', 2)).toBe('again');
    await guard.end(id, 'h5');
  });
});
