// Scripts run by SHA, and still run after Redis forgot them (a restart, SCRIPT FLUSH): the NOSCRIPT
// answer is followed by one EVAL, which loads the script again. Also with auto-pipelining on, as the
// services run their connections.
import { randomUUID } from 'node:crypto';
import { type RedisScript, runScript } from '@booking/kit';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { stack } from '../support/helpers.js';

const redis = new Redis(stack().redisUrl, { enableAutoPipelining: true, lazyConnect: true });
afterAll(() => redis.disconnect());
const INCR_BY: RedisScript = {
  name: 'testIncrBy',
  keys: 1,
  lua: "return redis.call('INCRBY', KEYS[1], ARGV[1])",
};

describe('runScript', () => {
  it('runs by SHA, after a SCRIPT FLUSH too, and side by side in one tick', async () => {
    const key = `it:script:${randomUUID()}`;
    expect(await runScript(redis, INCR_BY, [key], ['2'])).toBe(2);
    await redis.script('FLUSH');
    expect(await runScript(redis, INCR_BY, [key], ['3'])).toBe(5);
    const many = await Promise.all(Array.from({ length: 50 }, () => runScript(redis, INCR_BY, [key], ['1'])));
    expect(Math.max(...(many as number[]))).toBe(55);
    expect(await redis.script('EXISTS', '0'.repeat(40))).toEqual([0]);
    await redis.del(key);
  });
});
