// When, and through which topic, a failed record is tried again; or that it is done trying.
import { retryTopicName } from '../topics.js';

export interface RetryPolicy {
  /** Delays of the retry topics, e.g. [1000, 4000, 16000, 60000]. */
  delaysMs: readonly number[];
  /** Total attempts including the first; after the last one fails, the DLT. */
  maxAttempts: number;
  /** ±fraction of the delay, e.g. 0.2. */
  jitter: number;
}

export type RetryDecision =
  | { kind: 'retry'; topic: string; delayMs: number; notBefore: number; nextAttempt: number }
  | { kind: 'exhausted'; attempts: number };

/**
 * `attempt` is the attempt that just failed (1-based). The delay is the schedule's entry for it
 * (the last entry repeats), jittered, and never earlier than a provider's Retry-After. `uncalled`
 * attempts (refused by our own circuit breaker, never reaching the provider) count toward
 * `maxAttempts` but not toward the schedule: the first real failure after a run of refusals waits the
 * first delay, not the longest (the chaos matrix's provider-down round: bookings refused three times
 * while the circuit reopened took the 30 s tier on their first real call, terminal 48-60 s after).
 */
export function decideRetry(
  policy: RetryPolicy,
  sourceTopic: string,
  attempt: number,
  {
    retryAfterMs,
    now = Date.now(),
    random = Math.random,
    uncalled = 0,
  }: { retryAfterMs?: number; now?: number; random?: () => number; uncalled?: number } = {},
): RetryDecision {
  if (attempt >= policy.maxAttempts) return { kind: 'exhausted', attempts: attempt };
  const called = Math.max(1, attempt - Math.max(0, uncalled));
  const index = Math.min(called - 1, policy.delaysMs.length - 1);
  const base = policy.delaysMs[index]!;
  const jittered = Math.round(base * (1 + policy.jitter * (2 * random() - 1)));
  // A provider's Retry-After counts up to the schedule's longest delay and no further: the record
  // waits on a retry topic whose partition is paused until it is due, so a "come back tomorrow"
  // would hold every record behind it for a day (issue 12). Past that, attempts run out and the
  // reconciler settles it.
  const longest = Math.max(...policy.delaysMs);
  const wait = Number.isFinite(retryAfterMs) ? Math.min(Math.max(0, retryAfterMs ?? 0), longest) : 0;
  const delayMs = Math.max(jittered, wait);
  return {
    kind: 'retry',
    topic: retryTopicName(sourceTopic, base),
    delayMs,
    notBefore: now + delayMs,
    nextAttempt: attempt + 1,
  };
}
