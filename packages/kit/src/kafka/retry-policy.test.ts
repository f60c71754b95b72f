import { describe, expect, it } from 'vitest';
import { decideRetry } from './retry-policy.js';

const policy = { delaysMs: [1000, 4000, 16000, 60000], maxAttempts: 5, jitter: 0.2 };

describe('retry policy', () => {
  it('follows the schedule, one retry topic per delay', () => {
    const at = (attempt: number) => decideRetry(policy, 'src', attempt, { now: 0, random: () => 0.5 });
    expect(at(1)).toEqual({
      kind: 'retry',
      topic: 'src.retry-1s',
      delayMs: 1000,
      notBefore: 1000,
      nextAttempt: 2,
    });
    expect(at(2)).toMatchObject({ topic: 'src.retry-4s', delayMs: 4000 });
    expect(at(4)).toMatchObject({ topic: 'src.retry-60s', delayMs: 60000, nextAttempt: 5 });
    expect(at(5)).toEqual({ kind: 'exhausted', attempts: 5 });
  });

  it('jitters within ±jitter', () => {
    const low = decideRetry(policy, 'src', 2, { now: 0, random: () => 0 });
    const high = decideRetry(policy, 'src', 2, { now: 0, random: () => 0.999999 });
    expect(low).toMatchObject({ delayMs: 3200 });
    expect(high.kind === 'retry' && high.delayMs).toBe(4800);
  });

  it('never retries before Retry-After', () => {
    const d = decideRetry(policy, 'src', 1, { now: 0, random: () => 0, retryAfterMs: 2500 });
    expect(d).toMatchObject({ delayMs: 2500, notBefore: 2500, topic: 'src.retry-1s' });
  });

  it("waits at most the schedule's longest delay, whatever Retry-After says (issue 12)", () => {
    // "Come back tomorrow" used to pause the whole retry partition for a day.
    const d = decideRetry(policy, 'src', 1, { now: 0, random: () => 0.5, retryAfterMs: 86_400_000 });
    expect(d).toMatchObject({ delayMs: 60_000, notBefore: 60_000 });
    const nan = decideRetry(policy, 'src', 1, { now: 0, random: () => 0.5, retryAfterMs: Number.NaN });
    expect(nan).toMatchObject({ delayMs: 1000 });
  });

  it('repeats the last delay when attempts outnumber the schedule', () => {
    const d = decideRetry({ ...policy, maxAttempts: 10 }, 'src', 8, { now: 0, random: () => 0.5 });
    expect(d).toMatchObject({ topic: 'src.retry-60s', delayMs: 60000 });
  });

  it('does not move attempts refused by our own circuit breaker along the schedule, but counts them toward the limit', () => {
    // Attempt 4 failed at the provider after three refusals: its retry waits the first delay.
    const d = decideRetry(policy, 'src', 4, { now: 0, random: () => 0.5, uncalled: 3 });
    expect(d).toMatchObject({ kind: 'retry', topic: 'src.retry-1s', delayMs: 1000, nextAttempt: 5 });
    // Refusals only: the schedule stays at its start; the circuit's Retry-After sets the wait.
    const r = decideRetry(policy, 'src', 2, { now: 0, random: () => 0.5, uncalled: 2, retryAfterMs: 9000 });
    expect(r).toMatchObject({ topic: 'src.retry-1s', delayMs: 9000 });
    expect(decideRetry(policy, 'src', 5, { now: 0, uncalled: 4 })).toEqual({
      kind: 'exhausted',
      attempts: 5,
    });
  });
});
