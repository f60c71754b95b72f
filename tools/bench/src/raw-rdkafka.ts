// The limits on @confluentinc/kafka-javascript (librdkafka) in the same run as the pipeline (issue 28):
// - `plain`: produce → consume, acks=all, read_uncommitted, as raw.ts does on kafkajs;
// - `chain`: the pipeline's own shape with nothing of the pipeline's work: records pre-written to
//   a source topic cross three consume→produce hops, each hop one transactional producer whose
//   transactions carry many records across partitions and the consumed offsets with the
//   consumer's group metadata (KIP-447), committed every COMMIT_INTERVAL_MS or COMMIT_RECORDS; a
//   read_committed consumer counts what comes out of the third. The pipeline's capacity against
//   this is what its own work costs.
import rdkafka from '@confluentinc/kafka-javascript';
import { type RawResult, rawResult } from './measure.js';

const { Kafka } = rdkafka.KafkaJS;
type Kafka = InstanceType<typeof Kafka>;
type Producer = ReturnType<Kafka['producer']>;

const BYTES = 350;
const PARTITIONS = 6;
const BATCH = 1000;
const HOPS = 3;
export const COMMIT_INTERVAL_MS = 100;
export const COMMIT_RECORDS = 5000;

export type RdkafkaMode = 'rdkafka-plain' | 'rdkafka-chain';

const client = (brokers: string, clientId: string): Kafka =>
  new Kafka({ kafkaJS: { brokers: brokers.split(','), clientId, logLevel: rdkafka.KafkaJS.logLevel.ERROR } });

async function createTopics(kafka: Kafka, topics: string[]): Promise<() => Promise<void>> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: topics.map((topic) => ({ topic, numPartitions: PARTITIONS, replicationFactor: 1 })),
  });
  return async () => {
    await admin.deleteTopics({ topics }).catch(() => undefined);
    await admin.disconnect();
  };
}

const messages = (from: number, n: number, value: Buffer) =>
  Array.from({ length: n }, (_, j) => ({ key: String(from + j), value }));

async function produceAll(producer: Producer, topic: string, n: number): Promise<void> {
  const value = Buffer.alloc(BYTES, 120);
  const inFlight: Promise<unknown>[] = [];
  for (let i = 0; i < n; i += BATCH) {
    inFlight.push(producer.send({ topic, messages: messages(i, Math.min(BATCH, n - i), value) }));
    if (inFlight.length >= 8) await inFlight.shift();
  }
  await Promise.all(inFlight);
}

/** A read_committed (or not) consumer from the beginning that counts what it reads. */
async function counter(kafka: Kafka, groupId: string, topic: string, committed: boolean) {
  const consumer = kafka.consumer({
    kafkaJS: { groupId, fromBeginning: true, autoCommit: false },
    'isolation.level': committed ? 'read_committed' : 'read_uncommitted',
    'js.consumer.max.batch.size': -1,
  });
  const seen = { n: 0, lastAt: 0 };
  await consumer.connect();
  await consumer.subscribe({ topic });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      seen.n += batch.messages.length;
      seen.lastAt = Date.now();
    },
  });
  return { consumer, seen };
}

/**
 * One hop: a consumer of `from` and one transactional producer writing to `to`. A transaction is
 * begun at the first record after a commit, takes every batch until COMMIT_RECORDS or
 * COMMIT_INTERVAL_MS, then sends the consumed offsets with the consumer's group metadata and commits.
 */
async function hop(kafka: Kafka, runId: string, i: number, from: string, to: string) {
  const producer = kafka.producer({
    kafkaJS: { transactionalId: `bench.chain.${runId}.hop${i}`, idempotent: true, maxInFlightRequests: 5 },
    'linger.ms': 5,
  });
  const consumer = kafka.consumer({
    kafkaJS: { groupId: `bench.chain.${runId}.hop${i}`, fromBeginning: true, autoCommit: false },
    'isolation.level': 'read_committed',
    'js.consumer.max.batch.size': -1,
  });
  await Promise.all([producer.connect(), consumer.connect()]);
  await consumer.subscribe({ topic: from });
  let open = false;
  let since = 0;
  let inTxn = 0;
  const offsets = new Map<number, string>();
  let chain: Promise<void> = Promise.resolve();
  const serial = (f: () => Promise<void>) => {
    chain = chain.then(f, f);
    return chain;
  };
  const commit = async () => {
    if (!open) return;
    await producer.sendOffsets({
      consumer,
      topics: [
        { topic: from, partitions: [...offsets].map(([partition, offset]) => ({ partition, offset })) },
      ],
    });
    await producer.commit();
    open = false;
    inTxn = 0;
    offsets.clear();
  };
  const timer = setInterval(() => {
    if (open && Date.now() - since >= COMMIT_INTERVAL_MS) void serial(commit);
  }, COMMIT_INTERVAL_MS / 4);
  await consumer.run({
    partitionsConsumedConcurrently: 1,
    eachBatch: ({ batch }) =>
      serial(async () => {
        if (batch.messages.length === 0) return;
        if (!open) {
          await producer.transaction();
          open = true;
          since = Date.now();
        }
        await producer.send({
          topic: to,
          messages: batch.messages.map((m) => ({ key: m.key, value: m.value })),
        });
        inTxn += batch.messages.length;
        offsets.set(batch.partition, (BigInt(batch.lastOffset()) + 1n).toString());
        if (inTxn >= COMMIT_RECORDS || Date.now() - since >= COMMIT_INTERVAL_MS) await commit();
      }),
  });
  return async () => {
    clearInterval(timer);
    await chain.catch(() => undefined);
    await Promise.allSettled([consumer.disconnect(), producer.disconnect()]);
  };
}

export async function rdkafkaLimit(
  brokers: string,
  runId: string,
  n: number,
  mode: RdkafkaMode,
  until: (what: string, done: () => boolean, boundMs: number) => Promise<boolean>,
): Promise<RawResult> {
  const kafka = client(brokers, `booking-bench-${mode}-${runId}`);
  const base = `bench.${mode}.${runId}`;
  const topics =
    mode === 'rdkafka-plain' ? [base] : Array.from({ length: HOPS + 1 }, (_, i) => `${base}.${i}`);
  const drop = await createTopics(kafka, topics);
  const producer = kafka.producer({ kafkaJS: { acks: -1 }, 'linger.ms': 5 });
  await producer.connect();
  const stops: (() => Promise<void>)[] = [];
  try {
    if (mode === 'rdkafka-plain') {
      const { consumer, seen } = await counter(kafka, `${base}.reader`, base, false);
      stops.push(() => consumer.disconnect());
      const t0 = Date.now();
      await produceAll(producer, base, n);
      const producedAt = Date.now();
      await until(`raw consume (${mode})`, () => seen.n >= n, 120_000);
      return rawResult(
        mode,
        { records: n, bytes: BYTES, partitions: PARTITIONS },
        { start: t0, produced: producedAt, consumed: seen.n, lastAt: seen.lastAt },
      );
    }
    // The source is written first: the chain is measured from its first hop's start.
    await produceAll(producer, topics[0]!, n);
    const { consumer, seen } = await counter(kafka, `${base}.reader`, topics[HOPS]!, true);
    stops.push(() => consumer.disconnect());
    const t0 = Date.now();
    for (let i = 0; i < HOPS; i++) stops.push(await hop(kafka, runId, i, topics[i]!, topics[i + 1]!));
    await until(`transactional chain (${HOPS} hops)`, () => seen.n >= n, 300_000);
    return rawResult(
      mode,
      { records: n, bytes: BYTES, partitions: PARTITIONS },
      { start: t0, consumed: seen.n, lastAt: seen.lastAt },
    );
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
    await drop();
  }
}
