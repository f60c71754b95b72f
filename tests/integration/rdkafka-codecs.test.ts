// Issue 28 (with 31): the client the services move to reads what upstream producers compress with.
// kcat (librdkafka 2.0, Debian's) writes a batch in each codec; @confluentinc/kafka-javascript,
// built here against Debian's zlib and zstd, reads every record back.
import { randomUUID } from 'node:crypto';
import { createRdkafka } from '@booking/kit/transport';
import { afterAll, describe, expect, it } from 'vitest';
import { createBareTopic, kafkaClient, stack, unique, waitFor } from '../support/helpers.js';
import { kcatProduce } from '../support/upstream.js';

const kafka = createRdkafka({ clientId: unique('rdkafka-codecs'), brokers: stack().kafkaBrokers.split(',') });
const consumers: { disconnect(): Promise<void> }[] = [];
afterAll(async () => {
  await Promise.allSettled(consumers.map((c) => c.disconnect()));
});

describe('librdkafka reads every codec', () => {
  it('gzip, snappy, lz4 and zstd batches written by kcat are read whole', async () => {
    const topic = unique('rdkafka-codecs');
    const admin = kafkaClient().admin();
    await admin.connect();
    await createBareTopic(admin, topic, 1);
    await admin.disconnect();
    const sent: string[] = [];
    for (const codec of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
      const values = Array.from({ length: 5 }, (_, i) => `${codec}-${i}-${'compressible '.repeat(20)}`);
      sent.push(...values);
      await kcatProduce(
        topic,
        `k-${randomUUID()}`,
        codec,
        values.map((v) => Buffer.from(v)),
      );
    }
    const seen: string[] = [];
    const consumer = kafka.consumer({ kafkaJS: { groupId: unique('rdkafka-codecs'), fromBeginning: true } });
    consumers.push(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic });
    await consumer.run({ eachMessage: async ({ message }) => void seen.push(String(message.value)) });
    await waitFor('every record', () => seen.length >= sent.length, 30_000);
    expect(seen).toEqual(sent);
  });
});
