// Lua scripts run by their SHA (EVALSHA), sent whole (EVAL) only when Redis does not know them yet
// (first use, or after a restart: NOSCRIPT), which also loads them. Every EVAL used to send the whole
// script text with each call: audit's projection script was the largest share of its Redis time in
// the issue 13 profile. Not ioredis's defineCommand: defined after an auto-pipeline exists in the
// same tick, its replies are misaligned (ioredis 5.9.2, issue #1931, "results[i] is not iterable").
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

export interface RedisScript {
  /** A name for the reader. */
  name: string;
  lua: string;
  keys: number;
}

const shas = new WeakMap<RedisScript, string>();

/** Runs `script` with its keys and arguments: EVALSHA, then EVAL once if Redis answers NOSCRIPT. */
export async function runScript(
  redis: Redis,
  script: RedisScript,
  keys: string[],
  args: string[],
): Promise<unknown> {
  let sha = shas.get(script);
  if (!sha) {
    sha = createHash('sha1').update(script.lua).digest('hex');
    shas.set(script, sha);
  }
  try {
    return await redis.evalsha(sha, script.keys, ...keys, ...args);
  } catch (err) {
    if (!String((err as Error)?.message).startsWith('NOSCRIPT')) throw err;
    return redis.eval(script.lua, script.keys, ...keys, ...args);
  }
}
