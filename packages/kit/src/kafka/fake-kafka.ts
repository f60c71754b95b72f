// A kafkajs stand-in for characterisation tests of the runtime and the sender (issue 28): producers
// whose transactions do what a script says, an admin whose committed offsets the fake transactions
// write, and consumers the test drives (joins, batches). Test support only: nothing else imports it.
import { EventEmitter } from 'node:events';
import type { Kafka, KafkaMessage } from 'kafkajs';
import type { ConsumedOffset } from './transactional-sender.js';

export type Call = { producer: number; op: string; detail?: unknown };

/** A kafkajs stand-in: producers whose transactions do what `script` says, and an admin whose offsets `committed` holds. */
export function fakeKafka(
  script: (producer: number, op: string, attempt: number) => Error | undefined = () => undefined,
) {
  const calls: Call[] = [];
  const committed = new Map<string, string>();
  /** Every offset commit, in order, as `group|topic|partition=offset`. */
  const history: string[] = [];
  let producers = 0;
  const counts = new Map<string, number>();
  const consumers: FakeConsumer[] = [];
  const kafka = {
    consumer: () => {
      const c = new FakeConsumer(committed);
      consumers.push(c);
      return c;
    },
    producer: () => {
      const id = ++producers;
      const step = (op: string, detail?: unknown) => {
        calls.push({ producer: id, op, detail });
        const n = (counts.get(op) ?? 0) + 1;
        counts.set(op, n);
        const err = script(id, op, n);
        if (err) throw err;
      };
      return {
        connect: async () => step('connect'),
        disconnect: async () => void calls.push({ producer: id, op: 'disconnect' }),
        transaction: async () => {
          step('begin');
          const pending: ConsumedOffset[] = [];
          return {
            sendBatch: async ({
              topicMessages,
            }: {
              topicMessages: { topic: string; messages: unknown[] }[];
            }) => {
              step(
                'sendBatch',
                topicMessages.map((t) => `${t.topic}:${t.messages.length}`),
              );
              return topicMessages.map((t) => ({
                topicName: t.topic,
                partition: 0,
                errorCode: 0,
                baseOffset: '0',
              }));
            },
            sendOffsets: async ({
              consumerGroupId,
              topics,
            }: {
              consumerGroupId: string;
              topics: { topic: string; partitions: { partition: number; offset: string }[] }[];
            }) => {
              step('sendOffsets');
              for (const t of topics)
                for (const p of t.partitions)
                  pending.push({
                    groupId: consumerGroupId,
                    topic: t.topic,
                    partition: p.partition,
                    offset: p.offset,
                  });
            },
            commit: async () => {
              // The commit reaches the coordinator before its answer can be lost.
              for (const o of pending) {
                committed.set(`${o.groupId}|${o.topic}|${o.partition}`, o.offset);
                history.push(`${o.groupId}|${o.topic}|${o.partition}=${o.offset}`);
              }
              step('commit');
            },
            abort: async () => void calls.push({ producer: id, op: 'abort' }),
          };
        },
      };
    },
    admin: () => ({
      connect: async () => undefined,
      disconnect: async () => undefined,
      fetchOffsets: async ({ groupId, topics }: { groupId: string; topics: string[] }) =>
        topics.map((topic) => ({
          topic,
          partitions: [0, 1, 2].map((partition) => ({
            partition,
            offset: committed.get(`${groupId}|${topic}|${partition}`) ?? '-1',
            metadata: null,
          })),
        })),
    }),
  };
  return { kafka: kafka as unknown as Kafka, calls, committed, history, consumers };
}

type EachBatch = (payload: unknown) => Promise<void>;

/** A consumer the test drives: `join` as a group member, `deliver` a batch, and what it was asked. */
export class FakeConsumer extends EventEmitter {
  readonly events = {
    FETCH_START: 'fetch_start',
    FETCH: 'fetch',
    START_BATCH_PROCESS: 'start_batch_process',
    END_BATCH_PROCESS: 'end_batch_process',
    HEARTBEAT: 'heartbeat',
    REBALANCING: 'rebalancing',
    STOP: 'stop',
    GROUP_JOIN: 'group_join',
    CRASH: 'crash',
    UNDECODABLE_BATCH: 'undecodable_batch',
  };
  eachBatch: EachBatch | undefined;
  readonly seeks: { topic: string; partition: number; offset: string }[] = [];
  readonly paused: string[] = [];

  constructor(private readonly committed: Map<string, string>) {
    super();
  }

  override on(event: string, listener: (...args: unknown[]) => void): this {
    super.on(event, listener);
    return this;
  }
  async connect() {}
  async subscribe() {}
  async run({ eachBatch }: { eachBatch: EachBatch }) {
    this.eachBatch = eachBatch;
  }
  async disconnect() {}
  pause(ts: { topic: string; partitions: number[] }[]) {
    for (const t of ts) for (const p of t.partitions) this.paused.push(`${t.topic}/${p}`);
  }
  resume() {}
  seek(s: { topic: string; partition: number; offset: string }) {
    this.seeks.push(s);
  }
  async commitOffsets(offsets: { topic: string; partition: number; offset: string }[]) {
    for (const o of offsets) this.committed.set(`plain|${o.topic}|${o.partition}`, o.offset);
  }

  /** The group gave this member `assignment` under `memberId` (a new id: it was dropped meanwhile). */
  join(memberId: string, assignment: Record<string, number[]>) {
    this.emit(this.events.GROUP_JOIN, { payload: { memberId, memberAssignment: assignment } });
  }

  /** One fetched batch of `values` from `first` on, through the runtime's eachBatch. */
  async deliver(topic: string, partition: number, first: number, values: string[]) {
    const messages = values.map(
      (v, i) =>
        ({
          key: Buffer.from(`k${first + i}`),
          value: Buffer.from(JSON.stringify(v)),
          offset: String(first + i),
          timestamp: String(Date.now()),
          attributes: 0,
          size: 0,
          headers: {},
        }) as unknown as KafkaMessage,
    );
    await this.eachBatch?.({
      batch: { topic, partition, messages, lastOffset: () => String(first + values.length - 1) },
      resolveOffset: () => undefined,
      heartbeat: async () => undefined,
      isRunning: () => true,
      isStale: () => false,
    });
  }
}
