// Many bookings per transaction, on librdkafka (issue 28; not yet wired into the services). One
// transactional producer per service instance; the outputs and consumed offsets of every record
// handled within COMMIT_INTERVAL (or until maxRecords) go in one transaction, committed with the
// consumer's group metadata (KIP-447: a zombie's offsets are refused by the group coordinator, so
// the transactional id need not be per partition). The Kafka Streams commit-interval pattern.
//
// A batch is kept in memory and written at its commit (begin, send, sendOffsets, commit): nothing
// of it is visible before the commit anyway, and no transaction stays open across the interval
// (an open one holds the last stable offset of every partition it wrote, stalling read_committed
// readers behind it). Every `add` resolves when the transaction holding it commits and rejects when
// it aborts; then the caller reads its partitions again from their committed positions.
import type { KafkaJS } from '@confluentinc/kafka-javascript';

export interface BatchPolicy {
  /** Longest a record waits for its transaction to begin committing. */
  intervalMs: number;
  /** A batch this big commits at once. */
  maxRecords: number;
}

/** Whether a batch opened at `since` holding `records` is due (pure: the policy's one rule). */
export const commitDue = (
  batch: { since: number; records: number } | undefined,
  now: number,
  p: BatchPolicy,
): boolean => batch !== undefined && (batch.records >= p.maxRecords || now - batch.since >= p.intervalMs);

export interface OutRecord {
  topic: string;
  key: string | Buffer | null;
  value: Buffer;
  headers?: Record<string, string>;
}

export interface BatchOffset {
  topic: string;
  partition: number;
  /** The next offset to read (last handled + 1). */
  offset: string;
  /**
   * Commit metadata (the finished offsets above `offset`, offset-tracker's encoding). The compat
   * layer's sendOffsets drops it, so offsets go through the native client (sendNativeOffsets).
   */
  metadata?: string | null;
}

/** The native clients behind the compat layer's producer and consumer (node-rdkafka's API). */
interface NativeProducer {
  sendOffsetsToTransaction(
    offsets: { topic: string; partition: number; offset: number; metadata?: string }[],
    consumer: unknown,
    timeout: number,
    cb: (err: (Error & { code?: number }) | null | undefined) => void,
  ): void;
}
type Internal<C> = { _getInternalClient(): C };

/** How long the coordinator may take to accept a transaction's offsets. */
const SEND_OFFSETS_TIMEOUT_MS = 10_000;

/**
 * Sends offsets into the producer's open transaction with the consumer's group metadata
 * (generation, member id: KIP-447's fencing), keeping each offset's commit metadata, which the
 * compat layer's `sendOffsets` leaves out. The native client appends a NUL to the metadata it
 * sends; decodeFinished ignores one.
 */
export function sendNativeOffsets(
  producer: Producer,
  consumer: Consumer,
  offsets: BatchOffset[],
): Promise<void> {
  const native = (producer as unknown as Internal<NativeProducer>)._getInternalClient();
  const group = (consumer as unknown as Internal<unknown>)._getInternalClient();
  const tpos = offsets.map((o) => ({
    topic: o.topic,
    partition: o.partition,
    offset: Number(o.offset),
    ...(o.metadata ? { metadata: o.metadata } : {}),
  }));
  return new Promise((resolve, reject) =>
    native.sendOffsetsToTransaction(tpos, group, SEND_OFFSETS_TIMEOUT_MS, (err) =>
      err ? reject(Object.assign(new Error(err.message), { code: err.code })) : resolve(),
    ),
  );
}

interface Batch {
  since: number;
  records: OutRecord[];
  offsets: Map<string, BatchOffset>;
  waiters: { resolve: () => void; reject: (e: unknown) => void }[];
}

export interface BatcherStats {
  transactions: number;
  aborted: number;
  records: number;
}

type Producer = KafkaJS.Producer;
type Consumer = KafkaJS.Consumer;

export class TransactionBatcher {
  private open: Batch | undefined;
  private committing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  readonly stats: BatcherStats = { transactions: 0, aborted: 0, records: 0 };

  constructor(
    private readonly producer: Producer,
    /** The consumer whose offsets go in the transactions (its group metadata fences zombies). */
    private readonly consumer: Consumer | undefined,
    private readonly policy: BatchPolicy,
    private readonly now: () => number = Date.now,
  ) {}

  /** Joins the open batch; settles with its transaction. */
  add(records: OutRecord[], offsets: BatchOffset[] = []): Promise<void> {
    if (this.closed) return Promise.reject(new Error('transaction batcher closed'));
    if (!this.open) this.open = { since: this.now(), records: [], offsets: new Map(), waiters: [] };
    const b: Batch = this.open;
    b.records.push(...records);
    for (const o of offsets) {
      const id = `${o.topic}/${o.partition}`;
      const had = b.offsets.get(id);
      if (!had || BigInt(o.offset) > BigInt(had.offset)) b.offsets.set(id, o);
    }
    const settled = new Promise<void>((resolve, reject) => b.waiters.push({ resolve, reject }));
    if (commitDue({ since: b.since, records: b.records.length + b.offsets.size }, this.now(), this.policy))
      void this.flush();
    else this.arm();
    return settled;
  }

  /** Commits the open batch now (before partitions are revoked, and at stop); resolves when done. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const b = this.open;
    this.open = undefined;
    if (b) this.committing = this.committing.then(() => this.commit(b));
    return this.committing;
  }

  /** Flushes, then refuses further records. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }

  private arm(): void {
    if (this.timer || !this.open) return;
    const wait = Math.max(0, this.open.since + this.policy.intervalMs - this.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, wait);
    this.timer.unref?.();
  }

  private async commit(b: Batch): Promise<void> {
    try {
      await this.producer.transaction();
      try {
        const byTopic = new Map<string, OutRecord[]>();
        for (const r of b.records) byTopic.set(r.topic, [...(byTopic.get(r.topic) ?? []), r]);
        await Promise.all(
          [...byTopic].map(([topic, rs]) =>
            this.producer.send({
              topic,
              messages: rs.map((r) => ({
                key: r.key,
                value: r.value,
                ...(r.headers ? { headers: r.headers } : {}),
              })),
            }),
          ),
        );
        if (b.offsets.size > 0) {
          if (!this.consumer) throw new Error('offsets given to a batcher without a consumer');
          await sendNativeOffsets(this.producer, this.consumer, [...b.offsets.values()]);
        }
        await this.producer.commit();
      } catch (err) {
        await this.producer.abort().catch(() => undefined);
        throw err;
      }
      this.stats.transactions++;
      this.stats.records += b.records.length;
      for (const w of b.waiters) w.resolve();
    } catch (err) {
      this.stats.aborted++;
      for (const w of b.waiters) w.reject(err);
    }
  }
}
