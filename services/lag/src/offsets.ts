// One reading of every group's position: committed offsets FIRST, then end offsets, so a record
// produced between the two reads can only make the lag look larger, never negative (clamped at 0
// anyway). A partition where the group has committed nothing has no lag value (null), not the
// end offset: the group may be new, or reading from the latest offset.
import type { Admin } from 'kafkajs';

export interface PartitionReading {
  group: string;
  topic: string;
  partition: number;
  committed: number | null;
  end: number;
  /** end − committed, at least 0; null when nothing is committed. */
  lag: number | null;
}

/** The broker's "This server does not host this topic-partition" (UNKNOWN_TOPIC_OR_PARTITION). */
export const unknownTopic = (err: unknown): boolean => {
  const e = err as { type?: string; cause?: unknown } | undefined;
  return e?.type === 'UNKNOWN_TOPIC_OR_PARTITION' || (e?.cause !== undefined && unknownTopic(e.cause));
};

export async function readGroup(admin: Admin, group: string): Promise<PartitionReading[]> {
  const committed = await admin.fetchOffsets({ groupId: group });
  const out: PartitionReading[] = [];
  for (const { topic, partitions } of committed) {
    let ends: { partition: number; high: string }[];
    try {
      ends = await admin.fetchTopicOffsets(topic);
    } catch {
      continue; // the topic is gone: its partitions (and their series) go with it
    }
    const byPartition = new Map(partitions.map((p) => [p.partition, Number(p.offset)]));
    for (const { partition, high } of ends) {
      const end = Number(high);
      const c = byPartition.get(partition);
      const has = c !== undefined && Number.isFinite(c) && c >= 0;
      out.push({
        group,
        topic,
        partition,
        committed: has ? c : null,
        end,
        lag: has ? Math.max(0, end - c) : null,
      });
    }
  }
  return out;
}

export async function listGroups(admin: Admin, filter: RegExp): Promise<string[]> {
  const { groups } = await admin.listGroups();
  return groups
    .map((g) => g.groupId)
    .filter((g) => filter.test(g))
    .sort();
}
