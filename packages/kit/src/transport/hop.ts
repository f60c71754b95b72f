// One consume→transform→produce hop on librdkafka (issue 28; a prototype, not yet a service's
// runtime): one consumer and one transactional producer per instance; each fetched batch's records
// are handled in order, and their outputs and the batch's next offset join the instance's open
// transaction (TransactionBatcher), which commits many batches, across partitions, at once. The
// batch's call returns when that transaction committed. When it aborts, the call throws and the
// client reads the batch again from its first record: its outputs were never visible, so handling
// it again is exactly once. A zombie (paused past its session) is fenced by the group: its
// sendOffsets carries the old generation and the whole transaction aborts (KIP-447).
import type { KafkaJS } from '@confluentinc/kafka-javascript';
import type { Logger } from '../logger.js';
import type { RdKafka } from './rdkafka-client.js';
import { type BatchPolicy, type OutRecord, TransactionBatcher } from './transaction-batcher.js';

export interface HopMessage {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, unknown>;
}

export interface HopOptions {
  kafka: RdKafka;
  groupId: string;
  topics: string[];
  transactionalId: string;
  /** The records a message becomes; throwing means: not now (the batch is read again). */
  handle: (m: HopMessage) => Promise<OutRecord[]>;
  policy: BatchPolicy;
  logger: Logger;
  /** Partitions handled side by side (their batches share the open transaction). */
  partitionsConsumedConcurrently?: number;
}

export class Hop {
  private consumer: KafkaJS.Consumer | undefined;
  private producer: KafkaJS.Producer | undefined;
  private batcher: TransactionBatcher | undefined;
  /** Batches whose transaction aborted and were read again (for tests and logs). */
  retriedBatches = 0;

  constructor(private readonly opts: HopOptions) {}

  get stats() {
    return {
      ...(this.batcher?.stats ?? { transactions: 0, aborted: 0, records: 0 }),
      retriedBatches: this.retriedBatches,
    };
  }

  async start(): Promise<void> {
    const { kafka, groupId, transactionalId } = this.opts;
    this.producer = kafka.producer({ kafkaJS: { transactionalId, idempotent: true }, 'linger.ms': 2 });
    this.consumer = kafka.consumer({
      kafkaJS: { groupId, fromBeginning: true, autoCommit: false },
      'isolation.level': 'read_committed',
      'js.consumer.max.batch.size': 500,
    });
    await this.producer.connect();
    await this.consumer.connect();
    this.batcher = new TransactionBatcher(this.producer, this.consumer, this.opts.policy);
    for (const topic of this.opts.topics) await this.consumer.subscribe({ topic });
    await this.consumer.run({
      partitionsConsumedConcurrently: this.opts.partitionsConsumedConcurrently ?? 3,
      eachBatch: async ({ batch }) => this.batch(batch.topic, batch.partition, batch.messages),
    });
  }

  private async batch(
    topic: string,
    partition: number,
    messages: KafkaJS.Message[] | KafkaJS.KafkaMessage[],
  ) {
    if (messages.length === 0) return;
    const out: OutRecord[] = [];
    for (const m of messages as KafkaJS.KafkaMessage[])
      out.push(
        ...(await this.opts.handle({
          topic,
          partition,
          offset: m.offset,
          key: m.key ?? null,
          value: m.value ?? null,
          headers: (m.headers ?? {}) as Record<string, unknown>,
        })),
      );
    const last = (messages[messages.length - 1] as KafkaJS.KafkaMessage).offset;
    try {
      await this.batcher!.add(out, [{ topic, partition, offset: (BigInt(last) + 1n).toString() }]);
    } catch (err) {
      this.retriedBatches++;
      this.opts.logger.warn(
        {
          topic,
          partition,
          firstOffset: (messages[0] as KafkaJS.KafkaMessage).offset,
          err: (err as Error).message,
        },
        'transaction aborted: the batch is read again',
      );
      throw err;
    }
  }

  /** Commits what is open, then leaves the group and disconnects. */
  async stop(): Promise<void> {
    await this.batcher?.close().catch(() => undefined);
    await Promise.allSettled([this.consumer?.disconnect(), this.producer?.disconnect()]);
  }
}
