// The timestamp of the record at an offset, without consuming it: Kafka's ListOffsets by time
// answers "the first offset whose timestamp is >= T", so the record at offset c has the largest T
// whose answer is still <= c. A binary search over T; results cached (a record's time never
// changes). Assumes timestamps do not go backwards inside a partition (CreateTime set by well-behaved
// producers, or LogAppendTime); otherwise the answer is the time of an earlier record.
import type { Admin } from 'kafkajs';

export type OffsetAtTime = (topic: string, partition: number, timestamp: number) => Promise<number>;

export function offsetAtTimeVia(admin: Admin | (() => Admin)): OffsetAtTime {
  const current = typeof admin === 'function' ? admin : () => admin;
  return async (topic, partition, timestamp) => {
    const all = await current().fetchTopicOffsetsByTimestamp(topic, timestamp);
    const p = all.find((x) => x.partition === partition);
    return p ? Number(p.offset) : Number.POSITIVE_INFINITY;
  };
}

export function recordTimeFinder(offsetAtTime: OffsetAtTime, now: () => number = Date.now) {
  const cache = new Map<string, number | null>();
  return async (topic: string, partition: number, offset: number): Promise<number | null> => {
    const key = `${topic}\u0000${partition}\u0000${offset}`;
    if (cache.has(key)) return cache.get(key)!;
    let lo = 0;
    let hi = now() + 60_000;
    // No record at or after `offset` has a timestamp >= lo? Then there is no such record yet.
    if ((await offsetAtTime(topic, partition, lo)) > offset) {
      cache.set(key, null);
      return null;
    }
    while (lo < hi) {
      const mid = Math.floor((lo + hi + 1) / 2);
      if ((await offsetAtTime(topic, partition, mid)) <= offset) lo = mid;
      else hi = mid - 1;
    }
    if (cache.size > 100_000) cache.clear();
    cache.set(key, lo);
    return lo;
  };
}
