// What one booking costs the broker and Redis: log offsets written across the pipeline's topics
// (records and transaction markers, retry and delay topics included) and Redis commands processed
// (INFO stats), each over a phase, divided by the bookings confirmed in it. The Redis figure counts
// every client of that Redis, so it is read with nothing else running.

import type { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';

export interface CountSample {
  offsets: Record<string, bigint>;
  redisCommands: number | null;
}

export async function sampleCounts(
  kafka: Kafka,
  topics: readonly string[],
  redis?: Redis,
): Promise<CountSample> {
  const admin = kafka.admin();
  await admin.connect();
  const offsets: Record<string, bigint> = {};
  try {
    for (const topic of topics) {
      const ends = await admin.fetchTopicOffsets(topic).catch(() => []);
      offsets[topic] = ends.reduce((a, e) => a + BigInt(e.high), 0n);
    }
  } finally {
    await admin.disconnect();
  }
  let redisCommands: number | null = null;
  if (redis) {
    const info = await redis.info('stats').catch(() => '');
    const m = /total_commands_processed:(\d+)/.exec(info);
    redisCommands = m ? Number(m[1]) : null;
  }
  return { offsets, redisCommands };
}

export interface CountsPerBooking {
  /** Log offsets written per confirmed booking, per topic and in all. */
  kafka_offsets_per_booking: number;
  kafka_offsets_by_topic: Record<string, number>;
  redis_commands_per_booking: number | null;
}

export function countsPerBooking(
  before: CountSample,
  after: CountSample,
  bookings: number,
): CountsPerBooking {
  const per = (n: number) => (bookings > 0 ? Math.round((n / bookings) * 100) / 100 : 0);
  const byTopic: Record<string, number> = {};
  let total = 0;
  for (const [topic, end] of Object.entries(after.offsets)) {
    const d = Number(end - (before.offsets[topic] ?? end));
    if (d > 0) byTopic[topic] = per(d);
    total += d;
  }
  return {
    kafka_offsets_per_booking: per(total),
    kafka_offsets_by_topic: byTopic,
    redis_commands_per_booking:
      before.redisCommands === null || after.redisCommands === null
        ? null
        : per(after.redisCommands - before.redisCommands),
  };
}
