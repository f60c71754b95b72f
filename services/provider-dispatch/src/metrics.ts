// provider-dispatch's own metrics (transitions, retries, dead letters, alerts and end-to-end time
// are the kit's, counted where the records are built).
import { Counter, Gauge, Histogram, METRIC_NAMES, type Registry } from '@booking/kit';

export function dispatchMetrics(registry: Registry) {
  return {
    providerCalls: new Counter({
      name: METRIC_NAMES.providerCalls,
      help: 'Provider calls by operation and outcome',
      labelNames: ['op', 'outcome'],
      registers: [registry],
    }),
    providerLatency: new Histogram({
      name: METRIC_NAMES.providerLatency,
      help: 'Provider call duration',
      labelNames: ['op'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    circuitState: new Gauge({
      name: METRIC_NAMES.circuitState,
      help: 'Circuit breaker state per provider: 0 closed, 1 open, 2 half-open, 3 isolated',
      labelNames: ['provider'],
      registers: [registry],
    }),
  };
}
export type DispatchMetrics = ReturnType<typeof dispatchMetrics>;
