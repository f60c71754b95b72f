// Creates the project's topics with explicit partitions and retention. Idempotent: existing
// topics are kept (and grown, never shrunk, if they have fewer partitions than declared).
import type { Admin } from 'kafkajs';
import { PipelineError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { TopicSpec } from '../topics.js';

/** Every topic's max.message.bytes (1 MiB). */
export const TOPIC_MAX_MESSAGE_BYTES = 1_048_576;

export interface EnsureTopicsResult {
  created: string[];
  existing: string[];
  grown: string[];
}

/**
 * The durability of every topic the project creates, from the number of brokers: replication 3
 * and at least 2 replicas in sync for a write (with acks=all, which every producer of the pipeline
 * uses) on a cluster of three or more, so one broker lost loses nothing and writes go on; one copy
 * on a single node. Unclean leader election stays off: a replica that missed writes never leads.
 * The local stack's broker settings (stack/stack.sh, kafka_config) follow the same rule.
 */
export function topicDurability(brokers: number): { replicationFactor: number; minInsyncReplicas: number } {
  const replicationFactor = Math.max(1, Math.min(3, brokers));
  return { replicationFactor, minInsyncReplicas: replicationFactor >= 3 ? 2 : 1 };
}

export interface EnsureTopicsOptions {
  /** Default: from the cluster's broker count (topicDurability). */
  replicationFactor?: number;
  logger?: Logger;
}

/**
 * Retries retriable broker answers (a topic another client just created may briefly be "not
 * hosted" yet), at most `attempts` times.
 */
export async function ensureTopics(
  admin: Admin,
  specs: readonly TopicSpec[],
  options: EnsureTopicsOptions & { attempts?: number } = {},
): Promise<EnsureTopicsResult> {
  const attempts = options.attempts ?? 5;
  for (let i = 1; ; i++) {
    try {
      return await ensureTopicsOnce(admin, specs, options);
    } catch (err) {
      const retriable = (err as { cause?: { retriable?: boolean } }).cause?.retriable === true;
      if (!retriable || i >= attempts) throw err;
      options.logger?.warn({ attempt: i, err: (err as Error).message }, 'ensureTopics: retrying');
      await new Promise((r) => setTimeout(r, 200 * i));
    }
  }
}

async function ensureTopicsOnce(
  admin: Admin,
  specs: readonly TopicSpec[],
  { replicationFactor, logger }: EnsureTopicsOptions,
): Promise<EnsureTopicsResult> {
  const result: EnsureTopicsResult = { created: [], existing: [], grown: [] };
  try {
    const present = new Set(await admin.listTopics());
    const missing = specs.filter((s) => !present.has(s.name));
    if (missing.length > 0) {
      const durability =
        replicationFactor === undefined
          ? topicDurability((await admin.describeCluster()).brokers.length)
          : { replicationFactor, minInsyncReplicas: replicationFactor >= 3 ? 2 : 1 };
      // Resolves false (no throw) for topics another process created meanwhile.
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((s) => ({
          topic: s.name,
          numPartitions: s.partitions,
          replicationFactor: durability.replicationFactor,
          configEntries: [
            { name: 'min.insync.replicas', value: String(durability.minInsyncReplicas) },
            { name: 'unclean.leader.election.enable', value: 'false' },
            { name: 'retention.ms', value: String(s.retentionMs) },
            { name: 'cleanup.policy', value: s.cleanupPolicy },
            // Explicit, not the broker's default: producers check records against it before
            // sending (MAX_OUTPUT_BYTES), consumers bound what they decode (MAX_RECORD_BYTES).
            { name: 'max.message.bytes', value: String(TOPIC_MAX_MESSAGE_BYTES) },
          ],
        })),
      });
      result.created.push(...missing.map((s) => s.name));
    }
    const existingSpecs = specs.filter((s) => present.has(s.name));
    if (existingSpecs.length > 0) {
      const { topics } = await admin.fetchTopicMetadata({ topics: existingSpecs.map((s) => s.name) });
      const grow: { topic: string; count: number }[] = [];
      for (const spec of existingSpecs) {
        const actual = topics.find((t) => t.name === spec.name)?.partitions.length ?? 0;
        result.existing.push(spec.name);
        if (actual < spec.partitions) grow.push({ topic: spec.name, count: spec.partitions });
        else if (actual > spec.partitions) {
          logger?.warn(
            { topic: spec.name, actual, declared: spec.partitions },
            'topic has more partitions than declared; kept',
          );
        }
      }
      if (grow.length > 0) {
        await admin.createPartitions({ topicPartitions: grow });
        result.grown.push(...grow.map((g) => g.topic));
      }
    }
  } catch (err) {
    throw new PipelineError('TOPIC_SETUP_FAILED', `could not ensure topics: ${(err as Error).message}`, {
      cause: err,
      retryable: true,
    });
  }
  logger?.info(result, 'topics ensured');
  return result;
}
