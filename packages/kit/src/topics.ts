// The topic registry: every topic's name, partitions, retention and value schema, in one place.
// Topics are created from this list by ensureTopics (never by broker auto-create).
import type { SchemaName } from '@booking/schemas';

const DAY_MS = 24 * 60 * 60 * 1000;

export const TOPIC_NAMES = {
  inbound: 'appointments.inbound.v1',
  requested: 'appointments.requested.v1',
  lifecycle: 'appointments.lifecycle.v1',
  dlt: 'appointments.dlt.v1',
  compensation: 'appointments.compensation.v1',
  /** Compensations that could not complete: a dead letter of their own, for a person. */
  compensationDlt: 'appointments.compensation-dlt.v1',
  pending: 'appointments.pending.v1',
  reconciliation: 'appointments.reconciliation.v1',
  audit: 'appointments.audit.v1',
} as const;
export type TopicKey = keyof typeof TOPIC_NAMES;

/**
 * The topic names with a prefix (`TOPIC_PREFIX`), so a whole pipeline can run on topics of its own
 * (tests, a shadow deployment). No prefix: the names above.
 */
export function topicNames(prefix = '', suffix = ''): Record<TopicKey, string> {
  return Object.fromEntries(
    Object.entries(TOPIC_NAMES).map(([k, v]) => [k, `${prefix}${v}${suffix}`]),
  ) as Record<TopicKey, string>;
}

export const DEFAULT_RETRY_DELAYS_MS = [1000, 4000, 16000, 30000] as const;

export interface TopicSpec {
  name: string;
  partitions: number;
  retentionMs: number;
  cleanupPolicy: 'delete' | 'compact';
  /** The Avro value schema, registered as `<name>-value`. */
  schema: SchemaName;
}

/** `1000` → `1s`, `500` → `500ms`: the suffix of a retry topic. */
export function delayLabel(delayMs: number): string {
  return delayMs % 1000 === 0 ? `${delayMs / 1000}s` : `${delayMs}ms`;
}

/** `<source-topic>.retry-<delay>` (ARCHITECTURE.md, "Topics"). */
export function retryTopicName(source: string, delayMs: number): string {
  return `${source}.retry-${delayLabel(delayMs)}`;
}

export function retryTopicNames(source: string, delaysMs: readonly number[]): string[] {
  return [...new Set(delaysMs)].map((d) => retryTopicName(source, d));
}

const BASE: Record<TopicKey, Omit<TopicSpec, 'name'>> = {
  inbound: { partitions: 6, retentionMs: 7 * DAY_MS, cleanupPolicy: 'delete', schema: 'InboundRequest' },
  requested: {
    partitions: 6,
    retentionMs: 7 * DAY_MS,
    cleanupPolicy: 'delete',
    schema: 'AppointmentRequested',
  },
  lifecycle: {
    partitions: 6,
    retentionMs: 30 * DAY_MS,
    cleanupPolicy: 'delete',
    schema: 'LifecycleTransition',
  },
  dlt: { partitions: 3, retentionMs: 30 * DAY_MS, cleanupPolicy: 'delete', schema: 'DeadLetter' },
  compensation: {
    partitions: 3,
    retentionMs: 7 * DAY_MS,
    cleanupPolicy: 'delete',
    schema: 'CompensationCommand',
  },
  compensationDlt: { partitions: 3, retentionMs: 30 * DAY_MS, cleanupPolicy: 'delete', schema: 'DeadLetter' },
  pending: { partitions: 6, retentionMs: 7 * DAY_MS, cleanupPolicy: 'delete', schema: 'ProviderPoll' },
  reconciliation: {
    partitions: 3,
    retentionMs: 30 * DAY_MS,
    cleanupPolicy: 'delete',
    schema: 'ReconciliationOutcome',
  },
  audit: { partitions: 3, retentionMs: 90 * DAY_MS, cleanupPolicy: 'delete', schema: 'AuditRecord' },
};

/** Topics that have retry topics; each retry topic carries its source topic's schema. */
const RETRIED: TopicKey[] = ['requested', 'compensation'];

/** Every topic of the pipeline for the given retry schedule. */
export function topicSpecs(
  retryDelaysMs: readonly number[] = DEFAULT_RETRY_DELAYS_MS,
  names: Record<TopicKey, string> = TOPIC_NAMES,
): TopicSpec[] {
  const specs: TopicSpec[] = [];
  for (const key of Object.keys(TOPIC_NAMES) as TopicKey[]) {
    const base = BASE[key];
    specs.push({ name: names[key], ...base });
    if (RETRIED.includes(key)) {
      for (const name of retryTopicNames(names[key], retryDelaysMs)) specs.push({ name, ...base });
    }
  }
  return specs;
}

export function subjectOf(topic: string): string {
  return `${topic}-value`;
}
