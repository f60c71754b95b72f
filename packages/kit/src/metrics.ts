// One prom-client registry per service, with default process metrics and a `service` label.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export { Counter, Gauge, Histogram, Registry };

/** Metric names shared by every service (each service adds its own in its own constants file). */
export const METRIC_NAMES = {
  transitions: 'booking_transitions_total',
  dlt: 'booking_dead_letters_total',
  idempotencyHits: 'booking_idempotency_hits_total',
  retries: 'booking_retries_total',
  providerCalls: 'booking_provider_calls_total',
  providerLatency: 'booking_provider_call_duration_seconds',
  circuitState: 'booking_circuit_state',
  endToEnd: 'booking_end_to_end_seconds',
  handled: 'booking_records_handled_total',
  alerts: 'booking_alerts_total',
} as const;

/** `booking_alerts_total{kind}`: conditions that need a person. Defined here once for every service. */
export function alertsCounter(registry: Registry): Counter<'kind'> {
  return new Counter({
    name: METRIC_NAMES.alerts,
    help: 'Conditions that need a person, by kind',
    labelNames: ['kind'],
    registers: [registry],
  });
}

export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}
