// One prom-client registry per service, with default process metrics and a `service` label.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { type CodecName, decompressedBatches } from './kafka/codecs.js';

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

/** The metrics the kit keeps for every service, defined here once and registered once per registry. */
export interface PipelineMetrics {
  /** `booking_transitions_total{to}`: lifecycle events emitted by a consumer. */
  transitions: Counter<'to'>;
  /** `booking_retries_total{reason}`: records sent to a retry topic. */
  retries: Counter<'reason'>;
  /** `booking_dead_letters_total{reason}`: records sent to a dead-letter topic. */
  deadLetters: Counter<'reason'>;
  /** `booking_alerts_total{kind}`: conditions that need a person. */
  alerts: Counter<'kind'>;
  /** `booking_end_to_end_seconds{to}`: accepted to a terminal state. */
  endToEnd: Histogram<'to'>;
}

const registered = new WeakMap<Registry, PipelineMetrics>();

export function pipelineMetrics(registry: Registry): PipelineMetrics {
  let m = registered.get(registry);
  if (!m) {
    const registers = [registry];
    m = {
      transitions: new Counter({
        name: METRIC_NAMES.transitions,
        help: 'Lifecycle transitions emitted, by target state',
        labelNames: ['to'],
        registers,
      }),
      retries: new Counter({
        name: METRIC_NAMES.retries,
        help: 'Records sent to a retry topic, by reason',
        labelNames: ['reason'],
        registers,
      }),
      deadLetters: new Counter({
        name: METRIC_NAMES.dlt,
        help: 'Records sent to a dead-letter topic, by reason',
        labelNames: ['reason'],
        registers,
      }),
      alerts: new Counter({
        name: METRIC_NAMES.alerts,
        help: 'Conditions that need a person, by kind',
        labelNames: ['kind'],
        registers,
      }),
      endToEnd: new Histogram({
        name: METRIC_NAMES.endToEnd,
        help: 'Accepted -> terminal outcome of the booking flow',
        labelNames: ['to'],
        buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
        registers,
      }),
    };
    registered.set(registry, m);
  }
  return m;
}

/** `booking_alerts_total{kind}` of this registry. */
export const alertsCounter = (registry: Registry): Counter<'kind'> => pipelineMetrics(registry).alerts;

export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  new Counter({
    name: 'kafka_record_batches_decompressed_total',
    help: 'Compressed record batches this process decompressed, by codec (every consumer of the process)',
    labelNames: ['codec'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [codec, n] of Object.entries(decompressedBatches))
        this.inc({ codec: codec as CodecName }, n);
    },
  });
  return registry;
}
