// Reads the dead-letter topic from its start to the end offsets taken when the read begins, with a
// throwaway consumer group (deleted afterwards), and decodes every record.
import { randomUUID } from 'node:crypto';
import type { AvroSerde } from '@booking/kit';
import type { DeadLetter } from '@booking/schemas';
import type { Kafka } from 'kafkajs';

export interface DeadLetterEntry {
  partition: number;
  offset: string;
  /** Epoch ms the record was written to the DLT. */
  timestamp: number;
  value: DeadLetter;
}

export interface Filter {
  reason?: string;
  since?: number;
  until?: number;
}

export function matches(e: DeadLetterEntry, f: Filter): boolean {
  if (f.reason && e.value.reason !== f.reason) return false;
  if (f.since !== undefined && e.timestamp < f.since) return false;
  if (f.until !== undefined && e.timestamp > f.until) return false;
  return true;
}

export async function readDeadLetters(
  kafka: Kafka,
  serde: AvroSerde,
  topic: string,
  boundMs = 30_000,
): Promise<DeadLetterEntry[]> {
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `booking-dlt-reader.${randomUUID()}`;
  try {
    const ends = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)]));
    const starts = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.low)]));
    const remaining = new Set([...ends].filter(([p, end]) => end > (starts.get(p) ?? 0n)).map(([p]) => p));
    const out: DeadLetterEntry[] = [];
    if (remaining.size === 0) return out;
    const consumer = kafka.consumer({ groupId, readUncommitted: false, allowAutoTopicCreation: false });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`reading ${topic} took longer than ${boundMs} ms`)),
          boundMs,
        );
        consumer
          .run({
            autoCommit: false,
            eachBatch: async ({ batch }) => {
              const end = ends.get(batch.partition) ?? 0n;
              for (const m of batch.messages) {
                if (BigInt(m.offset) >= end) break;
                const { value } = await serde.decode<DeadLetter>(m.value);
                out.push({
                  partition: batch.partition,
                  offset: m.offset,
                  timestamp: Number(m.timestamp),
                  value,
                });
              }
              // lastOffset() counts transaction markers too, which no message shows.
              if (BigInt(batch.lastOffset()) + 1n >= end) remaining.delete(batch.partition);
              if (remaining.size === 0) {
                clearTimeout(timer);
                resolve();
              }
            },
          })
          .catch(reject);
      });
    } finally {
      await consumer.disconnect();
    }
    return out.sort((a, b) => a.timestamp - b.timestamp);
  } finally {
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
}
