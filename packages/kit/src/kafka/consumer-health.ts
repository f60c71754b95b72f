// Whether a consumer is doing its job, for /healthz and for restarting it in place (issue 20: a
// consumer that kafkajs gave up on stayed dead behind a green health check).
// Pure rules over what the runtime observed; the runtime gathers the observations. `laggingGroups`
// is the same question asked from outside, by the fault and fuzz harnesses.
import type { Admin } from 'kafkajs';

export interface ConsumerHealth {
  /** Joined its group and consuming (not crashed, not restarting, not stopped). */
  running: boolean;
  /** Running, but its fetch loop is silent or an assigned partition has lag and no progress. */
  stuck: boolean;
  /** Restarts so far, by kafkajs or by the runtime. */
  restarts: number;
  /** Why it is not healthy, for the operator. */
  reason?: string;
}

export const healthy = (h: ConsumerHealth): boolean => h.running && !h.stuck;

/** One assigned partition as last seen: the group's committed offset and the log's end. */
export interface PartitionSample {
  topic: string;
  partition: number;
  committed: bigint | null;
  end: bigint;
}

/** What the rules remember per partition between samples. */
export interface PartitionProgress {
  committed: bigint | null;
  /** When `committed` was last seen to change (or first seen). */
  since: number;
}

/**
 * Records at the end of a partition that need not be consumed: a transaction's commit marker takes
 * an offset of its own, so a fully consumed transactional partition still shows lag 1.
 */
export const LAG_ALLOWANCE = 2n;

/**
 * Partitions with lag whose committed offset has not moved for `stuckAfterMs`, leaving out those
 * whose lowest open record became open (or due) within the bound: a retry or poll record waiting
 * for its time holds the commit on purpose, and a wedged one is the runtime's other rule.
 */
export function stalledPartitions(
  samples: readonly PartitionSample[],
  progress: Map<string, PartitionProgress>,
  now: number,
  stuckAfterMs: number,
  /** Since when the partition's lowest open record counts as open (its due time, for one that waited). */
  waitingSince: (topic: string, partition: number) => number | undefined,
): string[] {
  const stalled: string[] = [];
  for (const s of samples) {
    const id = `${s.topic}/${s.partition}`;
    const seen = progress.get(id);
    if (!seen || seen.committed !== s.committed) {
      progress.set(id, { committed: s.committed, since: now });
      continue;
    }
    const lag = s.end - (s.committed ?? 0n);
    if (lag <= LAG_ALLOWANCE) {
      seen.since = now;
      continue;
    }
    const since = waitingSince(s.topic, s.partition);
    if (since !== undefined && since > now - stuckAfterMs) continue;
    if (now - seen.since > stuckAfterMs) stalled.push(`${id} lag ${lag}`);
  }
  return stalled;
}

/**
 * Backoff before the runtime's n-th restart in a row (1-based): 1 s doubling to 5 s, for ever. A
 * consumer trying every 5 s costs one connection attempt; one that waited 16 or 30 s after a long
 * outage resumed half a minute after the broker was back and then met its whole backlog at once
 * (the chaos run's broker kill: dispatch idle 28 s after the broker's return).
 */
export function restartDelayMs(n: number): number {
  return Math.min(5000, 1000 * 2 ** Math.min(n - 1, 3));
}

/** Lag (end offset minus committed offset) of every partition the matching groups have committed on. */
export async function groupLags(
  admin: Admin,
  filter: (groupId: string) => boolean,
): Promise<{ groupId: string; topic: string; partition: number; lag: bigint }[]> {
  const out: { groupId: string; topic: string; partition: number; lag: bigint }[] = [];
  const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter(filter);
  for (const groupId of groups) {
    for (const { topic, partitions } of await admin.fetchOffsets({ groupId })) {
      const ends = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)]));
      for (const p of partitions) {
        if (p.offset === '-1') continue;
        out.push({
          groupId,
          topic,
          partition: p.partition,
          lag: (ends.get(p.partition) ?? 0n) - BigInt(p.offset),
        });
      }
    }
  }
  return out;
}

/**
 * Partitions of the groups `filter` keeps whose committed offset is more than LAG_ALLOWANCE behind
 * the log's end, as `group topic/partition lag N` (partitions the group never committed left out).
 */
export async function laggingGroups(admin: Admin, filter: (groupId: string) => boolean): Promise<string[]> {
  return (await groupLags(admin, filter))
    .filter((l) => l.lag > LAG_ALLOWANCE)
    .map((l) => `${l.groupId} ${l.topic}/${l.partition} lag ${l.lag}`);
}

/**
 * Committed and end offsets of the partitions assigned to one member. `skippedTo` holds positions
 * past batches of only aborted records or markers, which the consumer moves past without a commit.
 */
export async function sampleAssigned(
  admin: Admin,
  groupId: string,
  assigned: readonly { topic: string; partition: number }[],
  skippedTo: ReadonlyMap<string, bigint>,
): Promise<PartitionSample[]> {
  if (assigned.length === 0) return [];
  const topics = [...new Set(assigned.map((a) => a.topic))];
  const committed = await admin.fetchOffsets({ groupId, topics });
  const samples: PartitionSample[] = [];
  for (const topic of topics) {
    const ends = await admin.fetchTopicOffsets(topic);
    const mine = new Set(assigned.filter((a) => a.topic === topic).map((a) => a.partition));
    const byPartition = new Map(
      committed.find((c) => c.topic === topic)?.partitions.map((p) => [p.partition, p.offset]) ?? [],
    );
    for (const e of ends) {
      if (!mine.has(e.partition)) continue;
      const c = byPartition.get(e.partition);
      const at = c === undefined || c === '-1' ? null : BigInt(c);
      const skipped = skippedTo.get(`${topic}/${e.partition}`);
      samples.push({
        topic,
        partition: e.partition,
        committed: skipped !== undefined && (at === null || skipped > at) ? skipped : at,
        end: BigInt(e.high),
      });
    }
  }
  return samples;
}
