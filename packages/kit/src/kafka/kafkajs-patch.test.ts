// The one patch the pipeline applies to kafkajs 2.2.4 (patches/kafkajs+2.2.4.patch, applied by
// patch-package at install). kafkajs's sendMessages sent one request per partition leader and, when
// one failed, retried at once while a sibling's produce was still in flight; that sibling had no
// response recorded yet, so its batch was sent a second time, and inside a transaction both copies
// committed. On three brokers this wrote a requested record twice at rest (issue 14: 28 of 1,000
// run_all bookings with an extra provider create or a lost retry). This drives kafkajs's own
// sendMessages with two stub leaders: one slow, one refusing its first AddPartitionsToTxn.
// Second: its read_committed filter activated one aborted transaction per record, so a fetch that
// began inside several producers' aborted transactions handed the first record of all but one to
// the consumer (the chaos run's dispatch kill: audit applied DISPATCHING and RETRY_SCHEDULED of the
// killed instance's aborted transaction, and the appointment's real outcome was then refused).
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const createSendMessages = require('kafkajs/src/producer/sendMessages.js');
const createRetry = require('kafkajs/src/retry/index.js');
const { KafkaJSProtocolError } = require('kafkajs/src/errors.js');
const filterAbortedMessages = require('kafkajs/src/consumer/filterAbortedMessages.js');

const silent = () => ({ debug() {}, info() {}, warn() {}, error() {} });

type TopicData = { topic: string; partitions: { partition: number }[] }[];

/** A broker's answer to a produce request: every partition written, no error. */
const writtenAll = (topicData: TopicData) => ({
  topics: topicData.map((t) => ({
    topicName: t.topic,
    partitions: t.partitions.map((p) => ({ partition: p.partition, errorCode: 0, baseOffset: '0' })),
  })),
});

/** A transactional producer's state, with `addPartitionsToTransaction` as the test needs it. */
const transactionalEos = (
  addPartitionsToTransaction: (topicData: TopicData) => Promise<void> = async () => {},
) => ({
  isTransactional: () => true,
  async acquireBrokerLock() {},
  async releaseBrokerLock() {},
  addPartitionsToTransaction,
  getSequence: () => 0,
  updateSequence() {},
  getTransactionalId: () => 'tx',
  getProducerId: () => 1,
  getProducerEpoch: () => 0,
});

/** kafkajs's own sendMessages over stub leaders, sending one record to each of partitions 0 and 1. */
function sendToTwoPartitions(cluster: object, eosManager: ReturnType<typeof transactionalEos>) {
  const send = createSendMessages({
    logger: silent(),
    cluster,
    partitioner: ({ message }: { message: { partition: number } }) => message.partition,
    eosManager,
    retrier: createRetry({ retries: 5, initialRetryTime: 5, maxRetryTime: 10, factor: 0, multiplier: 1 }),
  });
  return send({
    acks: -1,
    timeout: 1000,
    topicMessages: [
      {
        topic: 't',
        messages: [
          { partition: 0, value: 'a' },
          { partition: 1, value: 'b' },
        ],
      },
    ],
  }) as Promise<{ partition: number }[]>;
}

describe('kafkajs sendMessages (patched)', () => {
  it('retries only the leader that failed, after every in-flight request settled', async () => {
    const produced = new Map<number, number>();
    const broker = (nodeId: number, delayMs: number) => ({
      nodeId,
      async produce({ topicData }: { topicData: TopicData }) {
        produced.set(nodeId, (produced.get(nodeId) ?? 0) + 1);
        await new Promise((r) => setTimeout(r, delayMs));
        return writtenAll(topicData);
      },
    });
    const brokers: Record<number, ReturnType<typeof broker>> = { 1: broker(1, 150), 2: broker(2, 1) };
    const cluster = {
      async refreshMetadataIfNecessary() {},
      async refreshMetadata() {},
      async addMultipleTargetTopics() {},
      isConnected: () => true,
      findTopicPartitionMetadata: () => [
        { partitionId: 0, leader: 1 },
        { partitionId: 1, leader: 2 },
      ],
      findLeaderForPartitions: (_topic: string, partitions: string[]) => {
        const out: Record<number, number[]> = {};
        for (const p of partitions.map(Number)) {
          const leader = p === 0 ? 1 : 2;
          out[leader] = [...(out[leader] ?? []), p];
        }
        return out;
      },
      findBroker: async ({ nodeId }: { nodeId: number }) => brokers[nodeId],
    };
    let refusals = 0;
    const eosManager = transactionalEos(async (topicData) => {
      const toSecond = topicData.some((t) => t.partitions.some((p) => p.partition === 1));
      if (toSecond && refusals++ === 0)
        throw new KafkaJSProtocolError({
          type: 'CONCURRENT_TRANSACTIONS',
          code: 51,
          retriable: true,
          message: 'another operation on the same transaction was ongoing',
        });
    });
    const answers = await sendToTwoPartitions(cluster, eosManager);
    expect(refusals).toBe(2);
    // The slow leader's batch went out once; unpatched, the retry sent it again while it was in flight.
    expect(produced.get(1)).toBe(1);
    expect(produced.get(2)).toBe(1);
    expect(answers.map((a) => a.partition).sort()).toEqual([0, 1]);
  });
});

describe('kafkajs sendMessages (patched): a partition whose leader moved', () => {
  it('is sent to its new leader even when that broker already answered for another partition', async () => {
    // Partition 0 is led by broker 1, partition 1 by broker 2. Broker 2 dies during the first attempt;
    // the refreshed metadata names broker 1 leader of both. Unpatched, kafkajs kept answers per broker:
    // broker 1 had answered, so the retry sent nothing and the call resolved without partition 1's
    // records (the chaos run's kill-leader loss on three brokers, issue 14).
    const { KafkaJSConnectionError } = require('kafkajs/src/errors.js');
    const sent: { nodeId: number; partitions: number[] }[] = [];
    let moved = false;
    const broker = (nodeId: number) => ({
      nodeId,
      async produce({ topicData }: { topicData: TopicData }) {
        const partitions = topicData.flatMap((t) => t.partitions.map((p) => p.partition));
        sent.push({ nodeId, partitions });
        if (nodeId === 2) throw new KafkaJSConnectionError('Connection error: connect ECONNREFUSED');
        return writtenAll(topicData);
      },
    });
    const brokers: Record<number, ReturnType<typeof broker>> = { 1: broker(1), 2: broker(2) };
    const leaderOf = (p: number) => (p === 0 || moved ? 1 : 2);
    let refreshes = 0;
    const cluster = {
      async refreshMetadataIfNecessary() {},
      async refreshMetadata() {
        refreshes += 1;
        moved = true;
      },
      async addMultipleTargetTopics() {},
      isConnected: () => true,
      findTopicPartitionMetadata: () => [
        { partitionId: 0, leader: leaderOf(0) },
        { partitionId: 1, leader: leaderOf(1) },
      ],
      findLeaderForPartitions: (_topic: string, partitions: string[]) => {
        const out: Record<number, number[]> = {};
        for (const p of partitions.map(Number)) out[leaderOf(p)] = [...(out[leaderOf(p)] ?? []), p];
        return out;
      },
      findBroker: async ({ nodeId }: { nodeId: number }) => brokers[nodeId],
    };
    const answers = await sendToTwoPartitions(cluster, transactionalEos());
    expect(refreshes).toBe(1);
    expect(answers.map((a) => a.partition).sort()).toEqual([0, 1]);
    // Partition 0 went out once; partition 1 went to broker 2, failed, then to broker 1.
    expect(sent.filter((s) => s.partitions.includes(0))).toEqual([{ nodeId: 1, partitions: [0] }]);
    expect(sent.filter((s) => s.partitions.includes(1)).map((s) => s.nodeId)).toEqual([2, 1]);
  });
});

describe('kafkajs filterAbortedMessages (patched)', () => {
  it('drops every record of every aborted transaction a fetch begins inside, whatever the order listed', () => {
    // Producers 7 and 8 each began a transaction before this fetch's first offset (100); both were
    // aborted; producer 9's records are committed.
    const record = (offset: number, producerId: string) => ({
      offset: String(offset),
      key: Buffer.from('k'),
      batchContext: { producerId, inTransaction: true },
    });
    const messages = [
      record(100, '7'),
      record(101, '8'),
      record(102, '9'),
      record(103, '8'),
      record(104, '7'),
    ];
    const kept = filterAbortedMessages({
      messages,
      abortedTransactions: [
        { producerId: '8', firstOffset: '95' },
        { producerId: '7', firstOffset: '90' },
      ],
    }).map((m: { offset: string }) => m.offset);
    expect(kept).toEqual(['102']);
  });
});
