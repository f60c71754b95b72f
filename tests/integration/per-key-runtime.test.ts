// Issue 13: the consumer runtime handles records per key in order and across keys side by side, and
// commits like Confluent's Parallel Consumer: the position stops at the lowest record not finished,
// and the records finished above it travel in the commit's metadata. So one slow appointment holds
// nobody else, and whoever takes the partition over handles the slow record again but not the
// records that had finished behind it.
import { ConsumerRuntime, createProducer, type Emit, Registry } from '@booking/kit';
import { SCHEMAS } from '@booking/schemas';
import type { Kafka } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import {
  cleanupAfterEach,
  createTestTopic,
  kafkaClient,
  logger,
  providerPoll,
  serde,
  unique,
  waitFor,
} from '../support/helpers.js';

const poll = providerPoll;
const stops = cleanupAfterEach();

async function setup() {
  const kafka = kafkaClient();
  const avro = serde();
  const spec = await createTestTopic(kafka, 'ProviderPoll', 1);
  await avro.register(spec.name, SCHEMAS.ProviderPoll);
  const groupId = unique('group');
  // Records kafkajs hands to the runtime's eachBatch, counted on every consumer the runtime makes.
  let delivered = 0;
  const counting: Kafka = Object.create(kafka);
  counting.consumer = (config) => {
    const c = kafka.consumer(config);
    c.on(c.events.START_BATCH_PROCESS, ({ payload }) => {
      delivered += payload.batchSize;
    });
    return c;
  };
  const runtime = (
    handle: (id: string, polls: number) => Promise<Emit[]>,
    tuning: { keyConcurrency?: number; maxOpen?: number } = {},
  ) => {
    const r = new ConsumerRuntime<{ appointmentId: string; polls: number }>({
      name: 'per-key',
      kafka: counting,
      groupId,
      topics: [spec.name],
      schema: 'ProviderPoll',
      serde: avro,
      logger,
      keyConcurrency: tuning.keyConcurrency ?? 8,
      ...(tuning.maxOpen !== undefined ? { maxOpen: tuning.maxOpen } : {}),
      handle: (rec) => handle(rec.value.appointmentId, rec.value.polls),
      onPoison: () => [],
    });
    stops.push(() => r.stop(2000));
    return r;
  };
  const producer = createProducer(kafka);
  await producer.connect();
  stops.push(() => producer.disconnect());
  const produce = async (ids: string[], polls: (i: number) => number = () => 0) =>
    producer.send({
      topic: spec.name,
      acks: -1,
      messages: await Promise.all(
        ids.map(async (id, i) => ({
          key: id,
          value: await avro.encode(spec.name, { ...poll(id), polls: polls(i) }),
        })),
      ),
    });
  const committed = async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const [t] = await admin.fetchOffsets({ groupId, topics: [spec.name] });
      return t!.partitions[0]!;
    } finally {
      await admin.disconnect();
    }
  };
  return { runtime, produce, committed, delivered: () => delivered };
}

describe('per-key consumer runtime', () => {
  it('a slow key holds only itself; a new owner handles the slow record again, not those finished behind it', {
    timeout: 90_000,
  }, async () => {
    const s = await setup();
    const firstOwner: string[] = [];
    let release: () => void = () => undefined;
    const a = s.runtime(async (id) => {
      if (id === 'slow') await new Promise<void>((r) => (release = r)); // released only after the handover
      firstOwner.push(id);
      return [];
    });
    await a.start();
    await s.produce(['slow', 'a1', 'b1', 'slow', 'c1']);
    // Behind the slow record, other keys go on; the slow key's second record waits in its key's turn.
    await waitFor(
      'a1, b1 and c1 handled while slow waits',
      () => ['a1', 'b1', 'c1'].every((k) => firstOwner.includes(k)),
      30_000,
    );
    expect(firstOwner).not.toContain('slow');
    // The position stays at the slow record (offset 0); a1, b1, c1 (1, 2, 4) are marked finished.
    // (Waited for as a whole: a1 and b1 may be committed in one transaction and c1 in the next.)
    const c = await waitFor(
      'the finished marks of a1, b1 and c1 committed',
      async () => {
        const p = await s.committed();
        return p.metadata === 'bk1:1,2,4' ? p : null;
      },
      30_000,
    );
    expect(c.offset).toBe('0');

    await a.stop(1000); // the slow call is still running: its record stays open, uncommitted
    const secondOwner: string[] = [];
    const b = s.runtime(async (id) => {
      secondOwner.push(id);
      return [];
    });
    await b.start();
    await waitFor(
      'the new owner commits past everything',
      async () => (await s.committed()).offset === '5',
      60_000,
    );
    expect(secondOwner).toEqual(['slow', 'slow']);
    release();
  });

  it('past its bound of open records it holds the rest of a fetch in memory: every record once, per key in order, each fetched once', {
    timeout: 90_000,
  }, async () => {
    const s = await setup();
    const N = 400;
    const keys = Array.from({ length: N }, (_, i) => `k${i % 20}`);
    // Sent before the runtime starts: its first fetches bring far more records than its bound (4).
    await s.produce(keys, (i) => i);
    const seen = new Map<string, number[]>();
    let handled = 0;
    const r = s.runtime(
      async (id, seq) => {
        await new Promise((resolve) => setTimeout(resolve, 1)); // some work: records pile up behind the bound
        seen.set(id, [...(seen.get(id) ?? []), seq]);
        handled++;
        return [];
      },
      { keyConcurrency: 2, maxOpen: 4 },
    );
    await r.start();
    await waitFor('every record committed', async () => (await s.committed()).offset === String(N), 60_000);
    expect(handled).toBe(N);
    for (const [id, seqs] of seen) {
      expect(seqs, id).toEqual([...seqs].sort((a, b) => a - b));
      expect(seqs.length, id).toBe(N / 20);
    }
    // Seeking back at every hold, as the first version did, handed the runtime each record about
    // N / 4 times over (every release fetched the rest of the batch again).
    expect(s.delivered()).toBeLessThan(2 * N);
  });

  it('a partition full of records asleep until later does not hold back another partition waiting behind the bound', {
    timeout: 90_000,
  }, async () => {
    const kafka = kafkaClient();
    const avro = serde();
    const spec = await createTestTopic(kafka, 'ProviderPoll', 2);
    await avro.register(spec.name, SCHEMAS.ProviderPoll);
    const registry = new Registry();
    const handled: string[] = [];
    const r = new ConsumerRuntime<{ appointmentId: string }>({
      name: 'asleep',
      kafka,
      groupId: unique('group'),
      topics: [spec.name],
      schema: 'ProviderPoll',
      serde: avro,
      logger,
      metrics: registry,
      honourNotBefore: true,
      keyConcurrency: 1,
      maxOpen: 4,
      handle: async (rec) => {
        await new Promise((resolve) => setTimeout(resolve, 1)); // some work: records pile up behind the bound
        handled.push(rec.value.appointmentId);
        return [];
      },
      onPoison: () => [],
    });
    stops.push(() => r.stop(2000));
    const producer = createProducer(kafka);
    await producer.connect();
    stops.push(() => producer.disconnect());
    const send = async (partition: number, ids: string[], headers: Record<string, string> = {}) =>
      producer.send({
        topic: spec.name,
        acks: -1,
        messages: await Promise.all(
          ids.map(async (id) => ({
            partition,
            key: id,
            value: await avro.encode(spec.name, poll(id)),
            headers,
          })),
        ),
      });
    await r.start();
    // Partition 0: ten records due in ten minutes (a retry topic after an outage): four are taken
    // in (asleep, in their keys' places), the other six wait behind the partition's bound.
    const later = Array.from({ length: 10 }, (_, i) => `later-${i}`);
    await send(0, later, { 'x-not-before': String(Date.now() + 600_000) });
    const deferred = async () =>
      (await registry.getSingleMetric('booking_records_handled_total')?.get())?.values.find(
        (v) => v.labels.outcome === 'deferred',
      )?.value ?? 0;
    await waitFor('four records of partition 0 asleep', async () => (await deferred()) >= 4, 30_000);
    // Partition 1: twenty records due now, more than the bound at once.
    const now = Array.from({ length: 20 }, (_, i) => `now-${i}`);
    await send(1, now);
    await waitFor(
      'every record of partition 1 handled',
      () => now.every((id) => handled.includes(id)),
      30_000,
    );
    expect(handled.filter((id) => id.startsWith('later-'))).toEqual([]);
  });
});
