// Issue 28's hop prototype on the real broker: 300 records on three partitions cross one hop whose
// transactions carry many batches; one transaction is made to abort (a record over the client's
// size limit, the first time only); its batches are read again; a read_committed reader sees every
// input exactly once, and the group's committed offsets end at the partitions' ends.
import { createLogger } from '@booking/kit';
import { createRdkafka, Hop } from '@booking/kit/transport';
import { afterAll, describe, expect, it } from 'vitest';
import { createBareTopic, kafkaClient, stack, unique, waitFor } from '../support/helpers.js';

const kafka = createRdkafka({ clientId: unique('hop'), brokers: stack().kafkaBrokers.split(',') });
const closers: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of closers.reverse()) await c().catch(() => undefined);
});

describe('a librdkafka hop with batched transactions', () => {
  it('delivers every record exactly once across an aborted transaction', async () => {
    const input = unique('hop-in');
    const out = unique('hop-out');
    const admin = kafkaClient().admin();
    await admin.connect();
    await createBareTopic(admin, input, 3);
    await createBareTopic(admin, out, 3);
    const plain = kafka.producer({ kafkaJS: { acks: -1 } });
    await plain.connect();
    const n = 300;
    await plain.send({
      topic: input,
      messages: Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: `v${i}` })),
    });
    await plain.disconnect();

    let poisoned = false;
    const group = unique('hop-group');
    const hop = new Hop({
      kafka,
      groupId: group,
      topics: [input],
      transactionalId: unique('hop-tx'),
      policy: { intervalMs: 50, maxRecords: 1000 },
      logger: createLogger({ service: 'test', level: 'silent' }),
      handle: async (m) => {
        const v = String(m.value);
        // The first time v150 is handled its output is too large for the client: the transaction aborts.
        const big = v === 'v150' && !poisoned;
        if (big) poisoned = true;
        return [
          { topic: out, key: m.key, value: big ? Buffer.alloc(2_000_000, 1) : Buffer.from(`out-${v}`) },
        ];
      },
    });
    closers.push(() => hop.stop());
    const seen: string[] = [];
    const reader = kafka.consumer({
      kafkaJS: { groupId: unique('hop-reader'), fromBeginning: true },
      'isolation.level': 'read_committed',
    });
    closers.push(() => reader.disconnect());
    await reader.connect();
    await reader.subscribe({ topic: out });
    await reader.run({ eachMessage: async ({ message }) => void seen.push(String(message.value)) });
    await hop.start();

    await waitFor('every output', () => new Set(seen).size >= n, 60_000);
    expect(poisoned).toBe(true);
    expect(hop.stats.aborted).toBeGreaterThanOrEqual(1);
    expect(hop.stats.retriedBatches).toBeGreaterThanOrEqual(1);
    expect(hop.stats.transactions).toBeLessThan(n);
    await waitFor(
      'the committed offsets at the ends',
      async () => {
        const [ends, committed] = await Promise.all([
          admin.fetchTopicOffsets(input),
          admin.fetchOffsets({ groupId: group, topics: [input] }),
        ]);
        const at = new Map(committed[0]!.partitions.map((p) => [p.partition, p.offset]));
        return ends.every((e) => at.get(e.partition) === e.high) ? true : null;
      },
      30_000,
    );
    // Exactly once: a last record after everything, then no input's output twice.
    const tail = kafka.producer({ kafkaJS: { acks: -1 } });
    await tail.connect();
    await tail.send({
      topic: out,
      messages: [0, 1, 2].map((partition) => ({ partition, key: 'end', value: 'END' })),
    });
    await tail.disconnect();
    await waitFor(
      'the reader at the end of every partition',
      () => seen.filter((v) => v === 'END').length === 3,
      30_000,
    );
    await admin.disconnect();
    const outputs = seen.filter((v) => v !== 'END');
    expect(outputs).toHaveLength(n);
    expect(new Set(outputs).size).toBe(n);
  }, 120_000);
});
