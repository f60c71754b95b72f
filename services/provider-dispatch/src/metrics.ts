import { alertsCounter, Counter, Gauge, Histogram, METRIC_NAMES, type Registry } from '@booking/kit';

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
    transitions: new Counter({
      name: METRIC_NAMES.transitions,
      help: 'Lifecycle transitions emitted, by target state',
      labelNames: ['to'],
      registers: [registry],
    }),
    retries: new Counter({
      name: METRIC_NAMES.retries,
      help: 'Records sent to a retry topic, by reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
    deadLetters: new Counter({
      name: METRIC_NAMES.dlt,
      help: 'Records sent to the DLT, by reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
    circuitState: new Gauge({
      name: METRIC_NAMES.circuitState,
      help: 'Circuit breaker state per provider: 0 closed, 1 open, 2 half-open, 3 isolated',
      labelNames: ['provider'],
      registers: [registry],
    }),
    alerts: alertsCounter(registry),
    endToEnd: new Histogram({
      name: METRIC_NAMES.endToEnd,
      help: 'Accepted -> terminal outcome of the booking flow',
      labelNames: ['to'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers: [registry],
    }),
  };
}
export type DispatchMetrics = ReturnType<typeof dispatchMetrics>;
