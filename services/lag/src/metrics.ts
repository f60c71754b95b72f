// The metric names lag dashboards already read (kafka-lag-exporter's), so existing Grafana panels
// and alerts work unchanged: dashboards/grafana/consumer-lag.json reads them.
import { Counter, Gauge, type Registry } from 'prom-client';

export const LAG_METRICS = {
  lag: 'kafka_consumergroup_group_lag',
  lagSeconds: 'kafka_consumergroup_group_lag_seconds',
  maxLagSeconds: 'kafka_consumergroup_group_max_lag_seconds',
  maxLag: 'kafka_consumergroup_group_max_lag',
  sumLag: 'kafka_consumergroup_group_sum_lag',
  topicSumLag: 'kafka_consumergroup_group_topic_sum_lag',
  status: 'kafka_consumergroup_group_status',
} as const;

export function lagMetrics(registry: Registry) {
  const partition = ['group', 'topic', 'partition'] as const;
  return {
    lag: new Gauge({
      name: LAG_METRICS.lag,
      help: 'Records behind the end offset, per partition',
      labelNames: partition,
      registers: [registry],
    }),
    lagSeconds: new Gauge({
      name: LAG_METRICS.lagSeconds,
      help: 'Age of the oldest unconsumed record, seconds, per partition',
      labelNames: partition,
      registers: [registry],
    }),
    maxLagSeconds: new Gauge({
      name: LAG_METRICS.maxLagSeconds,
      help: 'Largest lag in seconds over the group partitions',
      labelNames: ['group'],
      registers: [registry],
    }),
    maxLag: new Gauge({
      name: LAG_METRICS.maxLag,
      help: 'Largest lag in records over the group partitions',
      labelNames: ['group'],
      registers: [registry],
    }),
    sumLag: new Gauge({
      name: LAG_METRICS.sumLag,
      help: 'Records behind, summed over the group',
      labelNames: ['group'],
      registers: [registry],
    }),
    topicSumLag: new Gauge({
      name: LAG_METRICS.topicSumLag,
      help: 'Records behind, summed per group and topic',
      labelNames: ['group', 'topic'],
      registers: [registry],
    }),
    status: new Gauge({
      name: LAG_METRICS.status,
      help: 'Group status: 0 OK, 1 WARN, 2 REWIND, 3 STALL, 4 STOP',
      labelNames: ['group'],
      registers: [registry],
    }),
    readFailures: new Counter({
      name: 'lag_group_read_failures_total',
      help: "Polls in which a group's offsets could not be read (its series keep the last reading)",
      labelNames: ['group'],
      registers: [registry],
    }),
  };
}
export type LagMetrics = ReturnType<typeof lagMetrics>;
