// One circuit breaker per provider (cockatiel): a failure RATE over a sliding window of calls opens
// it; after a pause one trial call is let through (half-open); success closes it. While open,
// callers take the retry path without calling. Every change is logged and exported as a metric.
// Why a rate and not N consecutive failures: failures are often one calendar's, not the provider's
// (a calendar that always answers 503, a flaky one, a slow one). Under mixed load a few of those in
// a row opened a consecutive-count breaker for every calendar and dead-lettered healthy bookings
// (found by the issue 5 comparison run; docs/design.md).
import type { CreateOutcome, Logger } from '@booking/kit';
import {
  BrokenCircuitError,
  CircuitState,
  CountBreaker,
  circuitBreaker,
  handleWhen,
  IsolatedCircuitError,
} from 'cockatiel';
import type { DispatchMetrics } from '../metrics.js';

class ProviderFailure extends Error {
  constructor(readonly outcome: CreateOutcome) {
    super(`provider failure: ${outcome.kind}`);
  }
}

/** Outcomes that say the provider is unwell (not: the request was bad, or we are rate limited). */
function isFailure(o: CreateOutcome): boolean {
  return o.kind === 'unavailable' || o.kind === 'timeout' || o.kind === 'connection';
}

/**
 * `circuit-open`: refused without a call; `retryAfterMs` is when the circuit lets a trial through,
 * plus a random share of the pause so the refused do not all come back in the same instant.
 */
export type GuardedOutcome = CreateOutcome | { kind: 'circuit-open'; retryAfterMs: number };

export interface ProviderCircuit {
  run(call: () => Promise<CreateOutcome>): Promise<GuardedOutcome>;
  readonly state: 'closed' | 'open' | 'half-open' | 'isolated';
}

export function createCircuit(opts: {
  provider: string;
  failureRate: number;
  window: number;
  minCalls: number;
  halfOpenAfterMs: number;
  logger: Logger;
  metrics: DispatchMetrics;
}): ProviderCircuit {
  const breaker = circuitBreaker(
    handleWhen((err) => err instanceof ProviderFailure),
    {
      halfOpenAfter: opts.halfOpenAfterMs,
      breaker: new CountBreaker({
        threshold: opts.failureRate,
        size: opts.window,
        minimumNumberOfCalls: opts.minCalls,
      }),
    },
  );
  const names = {
    [CircuitState.Closed]: 'closed',
    [CircuitState.Open]: 'open',
    [CircuitState.HalfOpen]: 'half-open',
    [CircuitState.Isolated]: 'isolated',
  } as const;
  opts.metrics.circuitState.set({ provider: opts.provider }, CircuitState.Closed);
  let openedAt = 0;
  breaker.onStateChange((state) => {
    if (state === CircuitState.Open) openedAt = Date.now();
    opts.metrics.circuitState.set({ provider: opts.provider }, state);
    opts.logger.warn({ provider: opts.provider, circuit: names[state] }, `circuit ${names[state]}`);
  });
  return {
    get state() {
      return names[breaker.state];
    },
    async run(call) {
      try {
        return await breaker.execute(async () => {
          const outcome = await call();
          if (isFailure(outcome)) throw new ProviderFailure(outcome);
          return outcome;
        });
      } catch (err) {
        if (err instanceof ProviderFailure) return err.outcome;
        if (err instanceof BrokenCircuitError || err instanceof IsolatedCircuitError)
          // Retried when a trial may go through, not on the short tiers: refusals in a row used up a
          // booking's attempts while the circuit was open (the chaos run's catch-up after a broker
          // kill: 586 refusals in ten seconds, bookings on their last tier a minute later).
          return {
            kind: 'circuit-open',
            retryAfterMs:
              Math.max(0, openedAt + opts.halfOpenAfterMs - Date.now()) +
              Math.round(Math.random() * (opts.halfOpenAfterMs / 2)),
          };
        throw err;
      }
    },
  };
}
