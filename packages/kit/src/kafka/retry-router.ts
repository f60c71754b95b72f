// Where a record goes after a retryable failure, decided in one place (as spring-kafka's
// DefaultDestinationTopicResolver does): the next retry topic with its headers (attempt, not-before,
// first origin, error, deadline), or the DLT because the attempts are spent or the next one would
// come after the deadline. Handlers say "retry this, for this reason"; they no longer build retry
// records themselves.
import type { Emit, RecordHeaders } from './emit.js';
import { retryHeaders } from './headers.js';
import { decideRetry, type RetryPolicy } from './retry-policy.js';

export interface RetryRequest {
  /** The record that failed: its topic, partition, offset and headers (the first origin is kept). */
  record: { topic: string; partition: number; offset: string; headers: RecordHeaders };
  policy: RetryPolicy;
  /** The topic whose retry topics the record goes through. */
  sourceTopic: string;
  /** The attempt that just failed (1-based). */
  attempt: number;
  key: string;
  value: unknown;
  correlationId: string;
  firstSeen: number;
  deadline?: number | null;
  errorClass: string;
  errorMessage: string;
  retryAfterMs?: number;
  /** Attempts up to and including this one that never reached the outside (circuit refusals). */
  uncalled?: number;
  now: number;
  random?: () => number;
}

export type RetryRoute =
  | { kind: 'retry'; emit: Emit; nextAttempt: number; notBefore: number }
  | {
      kind: 'dead-letter';
      reason: 'RETRIES_EXHAUSTED' | 'DEADLINE_EXCEEDED';
      attempts: number;
      message: string;
    };

export function routeRetry(r: RetryRequest): RetryRoute {
  const decision = decideRetry(r.policy, r.sourceTopic, r.attempt, {
    retryAfterMs: r.retryAfterMs,
    uncalled: r.uncalled ?? 0,
    now: r.now,
    ...(r.random ? { random: r.random } : {}),
  });
  if (decision.kind === 'exhausted')
    return {
      kind: 'dead-letter',
      reason: 'RETRIES_EXHAUSTED',
      attempts: r.attempt,
      message: `${r.attempt} attempts failed; last: ${r.errorMessage}`,
    };
  if (r.deadline != null && decision.notBefore >= r.deadline)
    return {
      kind: 'dead-letter',
      reason: 'DEADLINE_EXCEEDED',
      attempts: r.attempt,
      message: `the next attempt would come after the deadline; last: ${r.errorMessage}`,
    };
  return {
    kind: 'retry',
    nextAttempt: decision.nextAttempt,
    notBefore: decision.notBefore,
    emit: {
      topic: decision.topic,
      key: r.key,
      value: r.value,
      headers: retryHeaders(r.record, {
        correlationId: r.correlationId,
        attempt: decision.nextAttempt,
        notBefore: decision.notBefore,
        firstSeen: r.firstSeen,
        errorClass: r.errorClass,
        errorMessage: r.errorMessage,
        deadline: r.deadline ?? null,
        uncalled: r.uncalled ?? 0,
      }),
    },
  };
}
