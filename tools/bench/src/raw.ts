// The raw kafkajs limit on the same broker, in the same run as the pipeline: once as plain
// kafkajs (acks=all, no idempotence, no headers, read_uncommitted), once with the pipeline's own
// producer settings (idempotent and transactional, one transaction in flight per producer, three
// headers per record, a read_committed consumer). The ratio of the pipeline to the second is what
// the pipeline's own work costs; the gap between the two is what exactly-once costs kafkajs.
import { randomUUID } from 'node:crypto';
import { createProducer } from '@booking/kit';
import type { Kafka } from 'kafkajs';
import { Partitioners } from 'kafkajs';
import { type RawResult, rawResult } from './measure.js';

export type RawMode = 'plain' | 'pipeline-settings';

const BYTES = 350; // about an AppointmentRequested record
const PARTITIONS = 6;
const BATCH = 1000;

export async function rawLimit(
  kafka: Kafka,
  runId: string,
  n: number,
  mode: RawMode,
  until: (what: string, done: () => boolean, boundMs: number) => Promise<boolean>,
): Promise<RawResult> {
  const topic = `bench.raw.${runId}.${mode}`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }],
    waitForLeaders: true,
  });
  const tx = mode === 'pipeline-settings';
  const consumer = kafka.consumer({ groupId: `bench.raw.${runId}.${mode}`, readUncommitted: !tx });
  // Plain: kafkajs's defaults (no idempotence); otherwise the pipeline's own producer factory.
  const producer = tx
    ? createProducer(kafka, { transactionalId: `bench.raw.${runId}` })
    : kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
  try {
    await Promise.all([consumer.connect(), producer.connect()]);
    await consumer.subscribe({ topic, fromBeginning: true });
    let consumed = 0;
    let lastAt = 0;
    await consumer.run({
      eachBatch: async ({ batch }) => {
        consumed += batch.messages.length;
        lastAt = Date.now();
      },
    });
    const value = Buffer.alloc(BYTES, 120);
    const t0 = Date.now();
    const batchOf = (i: number) =>
      Array.from({ length: Math.min(BATCH, n - i) }, (_, j) => ({
        key: String(i + j),
        value,
        ...(tx
          ? {
              headers: {
                'x-correlation-id': randomUUID(),
                'x-request-id': randomUUID(),
                traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
              },
            }
          : {}),
      }));
    if (tx) {
      // One transaction in flight, as the pipeline's senders run.
      for (let i = 0; i < n; i += BATCH) {
        const t = await producer.transaction();
        await t.send({ topic, acks: -1, messages: batchOf(i) });
        await t.commit();
      }
    } else {
      const inFlight: Promise<unknown>[] = [];
      for (let i = 0; i < n; i += BATCH) {
        inFlight.push(producer.send({ topic, acks: -1, messages: batchOf(i) }));
        if (inFlight.length >= 4) await inFlight.shift();
      }
      await Promise.all(inFlight);
    }
    const producedAt = Date.now();
    await until(`raw consume (${mode})`, () => consumed >= n, 120_000);
    return rawResult(
      mode,
      { records: n, bytes: BYTES, partitions: PARTITIONS },
      { start: t0, produced: producedAt, consumed, lastAt },
    );
  } finally {
    await Promise.allSettled([consumer.disconnect(), producer.disconnect()]);
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  }
}
