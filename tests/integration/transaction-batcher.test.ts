// Issue 28's batched transactions on librdkafka, on the real broker: many records, from many calls,
// commit in few transactions (the interval and the size bound), every call settles with its
// transaction, consumed offsets commit with the consumer's group metadata, and an aborted batch
// rejects every call in it and leaves nothing a read_committed reader sees.
import { randomUUID } from 'node:crypto';
import { decodeFinished, encodeFinished, TransactionBatcher } from '@booking/kit/transport';
import rdkafka from '@confluentinc/kafka-javascript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBareTopic, kafkaClient, stack, unique, waitFor } from '../support/helpers.js';

const { Kafka, logLevel } = rdkafka.KafkaJS;
const kafka = new Kafka({
  kafkaJS: { brokers: stack().kafkaBrokers.split(','), logLevel: logLevel.NOTHING },
});
const out = unique('batch-out');
const input = unique('batch-in');
const producer = kafka.producer({ kafkaJS: { transactionalId: unique('batcher'), idempotent: true } });
const seen: string[] = [];
const reader = kafka.consumer({
  kafkaJS: { groupId: unique('batch-reader'), fromBeginning: true },
  'isolation.level': 'read_committed',
});

beforeAll(async () => {
  const admin = kafkaClient().admin();
  await admin.connect();
  await createBareTopic(admin, out, 3);
  await createBareTopic(admin, input, 1);
  await admin.disconnect();
  await producer.connect();
  await reader.connect();
  await reader.subscribe({ topic: out });
  await reader.run({ eachMessage: async ({ message }) => void seen.push(String(message.value)) });
});
afterAll(async () => {
  await Promise.allSettled([producer.disconnect(), reader.disconnect()]);
});

const rec = (v: string) => ({ topic: out, key: v, value: Buffer.from(v) });

/** A read_committed consumer of a new group over `input`, connected, once `messages` are written there. */
async function groupConsumerAfter(group: string, messages: { key: string; value: string }[]) {
  const consumer = kafka.consumer({
    kafkaJS: { groupId: group, fromBeginning: true, autoCommit: false },
    'isolation.level': 'read_committed',
  });
  const plain = kafka.producer({ kafkaJS: { acks: -1 } });
  await Promise.all([consumer.connect(), plain.connect()]);
  await plain.send({ topic: input, messages });
  await plain.disconnect();
  return consumer;
}

/** The group's committed offsets on `input` as kafkajs reads them. */
async function kafkajsOffsets(group: string) {
  const admin = kafkaClient().admin();
  await admin.connect();
  const [offsets] = await admin.fetchOffsets({ groupId: group, topics: [input] });
  await admin.disconnect();
  return offsets?.partitions[0];
}

describe('TransactionBatcher (librdkafka)', () => {
  it('200 calls within the interval commit in one or two transactions, each call settled by it', async () => {
    const b = new TransactionBatcher(producer, undefined, { intervalMs: 200, maxRecords: 10_000 });
    const tag = randomUUID().slice(0, 8);
    await Promise.all(Array.from({ length: 200 }, (_, i) => b.add([rec(`${tag}-${i}`)])));
    expect(b.stats.transactions).toBeLessThanOrEqual(2);
    expect(b.stats.records).toBe(200);
    await waitFor(
      'the reader to see all 200',
      () => seen.filter((v) => v.startsWith(tag)).length >= 200,
      30_000,
    );
  });

  it('the size bound splits a burst into transactions of at most maxRecords', async () => {
    const b = new TransactionBatcher(producer, undefined, { intervalMs: 10_000, maxRecords: 25 });
    const tag = randomUUID().slice(0, 8);
    await Promise.all(Array.from({ length: 100 }, (_, i) => b.add([rec(`${tag}-${i}`)])));
    expect(b.stats.transactions).toBe(4);
  });

  it('consumed offsets commit with the consumer in the same transaction (KIP-447 sendOffsets)', async () => {
    const group = unique('batch-group');
    const consumer = await groupConsumerAfter(group, [
      { key: 'a', value: 'x' },
      { key: 'b', value: 'y' },
    ]);
    const b = new TransactionBatcher(producer, consumer, { intervalMs: 50, maxRecords: 1000 });
    const tag = randomUUID().slice(0, 8);
    let handled = 0;
    await consumer.subscribe({ topic: input });
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        await b.add(
          [rec(`${tag}-${message.offset}`)],
          [{ topic, partition, offset: String(BigInt(message.offset) + 1n) }],
        );
        handled++;
      },
    });
    try {
      await waitFor('both records handled and committed', () => handled >= 2, 30_000);
      expect((await kafkajsOffsets(group))?.offset).toBe('2');
    } finally {
      await consumer.disconnect().catch(() => undefined);
    }
  });

  it("an offset's commit metadata (the finished offsets above it) is kept, read back by librdkafka and kafkajs", async () => {
    const group = unique('batch-meta');
    const consumer = await groupConsumerAfter(
      group,
      Array.from({ length: 5 }, (_, i) => ({ key: `m${i}`, value: 'v' })),
    );
    let joined = false;
    await consumer.subscribe({ topic: input });
    await consumer.run({
      eachMessage: async () => {
        joined = true;
      },
    });
    try {
      await waitFor('the consumer to join and read', () => joined, 30_000);
      const b = new TransactionBatcher(producer, consumer, { intervalMs: 10, maxRecords: 1000 });
      const { metadata } = encodeFinished(1n, [3n, 4n]);
      await b.add([], [{ topic: input, partition: 0, offset: '1', metadata }]);
      const [mine] = await consumer.committed([{ topic: input, partition: 0 }]);
      expect(mine?.offset).toBe('1');
      expect([...decodeFinished(1n, mine?.metadata)]).toEqual([3n, 4n]);
      expect([...decodeFinished(1n, (await kafkajsOffsets(group))?.metadata)]).toEqual([3n, 4n]);
    } finally {
      await consumer.disconnect().catch(() => undefined);
    }
  });

  it('an aborted batch rejects every call in it and none of its records is read', async () => {
    const b = new TransactionBatcher(producer, undefined, { intervalMs: 100, maxRecords: 1000 });
    const tag = randomUUID().slice(0, 8);
    const calls = [
      b.add([rec(`${tag}-good-1`)]),
      // Over the client's message.max.bytes (1 MB): refused at once, so the batch aborts.
      b.add([{ topic: out, key: 'k', value: Buffer.alloc(2_000_000, 1) }]),
      b.add([rec(`${tag}-good-2`)]),
    ];
    const results = await Promise.allSettled(calls);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(b.stats.aborted).toBe(1);
    // A later batch commits, and the reader sees it but nothing of the aborted one.
    await b.add([rec(`${tag}-after`)]);
    await waitFor('the reader to see the later batch', () => seen.includes(`${tag}-after`), 30_000);
    expect(seen.filter((v) => v.startsWith(`${tag}-good`))).toEqual([]);
  });
});
