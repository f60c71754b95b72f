// One consume→produce hop on @confluentinc/kafka-javascript (librdkafka), as a child process for the
// KIP-447 fencing test: its transactional id is its own (an instance's, not a partition's), and the
// only thing that fences it is the consumer group's generation, carried by sendOffsets. It reports
// on stdout, one JSON line each: assigned, wrote (records sent, transaction open), committed,
// commit-failed. HOLD_MS: how long it waits between writing and committing (the window the test
// freezes it in). Exits when stdin closes, or with 3 once a commit was refused.
import rdkafka from '@confluentinc/kafka-javascript';

const { Kafka, logLevel } = rdkafka.KafkaJS;
const [brokers, from, to, group, name] = process.argv.slice(2);
const HOLD_MS = Number(process.env.HOLD_MS ?? 0);
const say = (event, extra = {}) => process.stdout.write(`${JSON.stringify({ event, name, ...extra })}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const kafka = new Kafka({
  kafkaJS: { brokers: brokers.split(','), clientId: name, logLevel: logLevel.NOTHING },
});
const producer = kafka.producer({
  kafkaJS: { transactionalId: `fence-test.${name}`, idempotent: true },
  'transaction.timeout.ms': 60_000,
});
const consumer = kafka.consumer({
  kafkaJS: {
    groupId: group,
    fromBeginning: true,
    autoCommit: false,
    sessionTimeout: 6000,
    heartbeatInterval: 1000,
  },
  rebalance_cb: (err, assignment) => {
    if (err.code === rdkafka.CODES.ERRORS.ERR__ASSIGN_PARTITIONS)
      say('assigned', { partitions: assignment.map((a) => a.partition) });
  },
  'isolation.level': 'read_committed',
  'js.consumer.max.batch.size': -1,
});

await producer.connect();
await consumer.connect();
await consumer.subscribe({ topic: from });
await consumer.run({
  eachBatch: async ({ batch }) => {
    if (batch.messages.length === 0) return;
    await producer.transaction();
    await producer.send({
      topic: to,
      messages: batch.messages.map((m) => ({ key: m.key, value: Buffer.from(`${name}:${m.offset}`) })),
    });
    say('wrote', { partition: batch.partition, offsets: batch.messages.map((m) => m.offset) });
    if (HOLD_MS > 0) await sleep(HOLD_MS);
    try {
      await producer.sendOffsets({
        consumer,
        topics: [
          {
            topic: from,
            partitions: [{ partition: batch.partition, offset: String(BigInt(batch.lastOffset()) + 1n) }],
          },
        ],
      });
      await producer.commit();
      say('committed', { partition: batch.partition, offsets: batch.messages.map((m) => m.offset) });
    } catch (err) {
      say('commit-failed', { error: String(err?.message ?? err), code: err?.code ?? null });
      await producer.abort().catch((e) => say('abort-failed', { error: String(e?.message ?? e) }));
      // The records are read again from the committed position by whoever owns the partition now;
      // this instance leaves (its supervisor would start it again as a new member).
      process.exit(3);
    }
  },
});
process.stdin.resume();
process.stdin.on('end', async () => {
  await Promise.allSettled([consumer.disconnect(), producer.disconnect()]);
  process.exit(0);
});
