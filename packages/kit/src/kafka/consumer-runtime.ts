// The one consumer loop every service uses (house rule 1): decode, call the handler, produce what it
// returns in one batch, commit, in that order. Handlers never touch Kafka.
//
// - A record that cannot be decoded, or that the handler refuses for good, becomes what
//   `onPoison` returns (normally a DLT record); its offset is committed and the partition flows on.
// - A retryable failure (Redis, registry or broker unreachable) is not the record's fault: nothing is
//   committed, the partition is paused and the same record is tried again after a backoff.
// - `x-not-before` in the future: the partition is paused until then (heartbeats go on) and the
//   record is re-read on resume. Retry topics are consumed this way.
import { randomUUID } from 'node:crypto';
import {
  type Consumer,
  type EachBatchPayload,
  type IHeaders,
  type Kafka,
  type KafkaMessage,
  Partitioners,
  type Producer,
} from 'kafkajs';
import { Counter, type Registry } from 'prom-client';
import { DecodeError, errorCode, isTransient } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Emit } from './emit.js';
import { HEADERS, headerNumber, headerValue } from './headers.js';
import type { AvroSerde } from './serde.js';

export interface RuntimeRecord<T> {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: T;
  headers: IHeaders;
  timestamp: string;
  raw: KafkaMessage;
}

export interface PoisonSource {
  topic: string;
  partition: number;
  message: KafkaMessage;
}

export interface ConsumerRuntimeOptions<T> {
  name: string;
  kafka: Kafka;
  groupId: string;
  topics: string[];
  serde: AvroSerde;
  producer: Producer;
  logger: Logger;
  handle: (record: RuntimeRecord<T>) => Promise<Emit[]>;
  /** What to emit for a record that cannot be decoded or that the handler failed on for good. */
  onPoison: (source: PoisonSource, error: unknown, reason: 'DECODE_FAILED' | 'HANDLER_FAILED') => Emit[];
  honourNotBefore?: boolean;
  partitionsConsumedConcurrently?: number;
  /** How long a fetch may wait for data; small on delay topics so a resumed partition is read promptly. */
  maxWaitTimeInMs?: number;
  /** Backoff before trying a record again after a retryable failure. */
  retryBackoffMs?: number;
  fromBeginning?: boolean;
  metrics?: Registry;
  /**
   * Consume → transform → produce exactly once: the outputs and the consumed offset go in one Kafka
   * transaction (a transactional producer of this runtime's own; consumers read committed). A
   * crash before the commit leaves neither the outputs nor the offset.
   */
  transactional?: boolean;
  /**
   * Records of different keys in one partition handled at the same time, up to this many (one key's
   * records stay in order). 1 (the default) handles one record at a time. A slow call for one
   * appointment then no longer holds every appointment behind it on the partition (head-of-line
   * blocking measured by the issue 5 comparison: a 2 s provider timeout stalled a whole partition).
   */
  keyConcurrency?: number;
}

interface PendingFlush {
  emits: Emit[];
  topic: string;
  partition: number;
  next: string;
  resolve: () => void;
  reject: (err: unknown) => void;
}

type Processed = { kind: 'done'; out: Emit[] } | { kind: 'transient'; err: unknown } | { kind: 'skipped' };

/** Bound on running one output transaction again after a retriable broker answer. */
const TX_ATTEMPTS = 6;

const counters = new WeakMap<Registry, Counter<'consumer' | 'outcome'>>();
function recordsCounter(registry: Registry | undefined): Counter<'consumer' | 'outcome'> | undefined {
  if (!registry) return undefined;
  let c = counters.get(registry);
  if (!c) {
    c = new Counter({
      name: 'booking_records_handled_total',
      help: 'Records handled by a consumer, by outcome (ok, poison, deferred, retry)',
      labelNames: ['consumer', 'outcome'],
      registers: [registry],
    });
    counters.set(registry, c);
  }
  return c;
}

export class ConsumerRuntime<T> {
  private readonly consumer: Consumer;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly counter: Counter<'consumer' | 'outcome'> | undefined;
  private joined = false;
  private stopped = false;
  private readonly txProducer: Producer | undefined;
  /** One transaction at a time per transactional producer: flushes queue here. */
  private txWaiting: PendingFlush[] = [];
  private txRunning = false;

  constructor(private readonly opts: ConsumerRuntimeOptions<T>) {
    if (opts.transactional) {
      this.txProducer = opts.kafka.producer({
        transactionalId: `${opts.groupId}.${opts.name}.${randomUUID()}`,
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
    }
    this.consumer = opts.kafka.consumer({
      groupId: opts.groupId,
      readUncommitted: false,
      maxWaitTimeInMs: opts.maxWaitTimeInMs ?? 500,
      allowAutoTopicCreation: false,
    });
    this.counter = recordsCounter(opts.metrics);
    this.consumer.on(this.consumer.events.GROUP_JOIN, () => {
      this.joined = true;
    });
  }

  /** True once the consumer has joined its group (for /healthz). */
  get ready(): boolean {
    return this.joined && !this.stopped;
  }

  async start(): Promise<void> {
    await this.txProducer?.connect();
    await this.consumer.connect();
    for (const topic of this.opts.topics) {
      await this.consumer.subscribe({ topic, fromBeginning: this.opts.fromBeginning ?? true });
    }
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.opts.partitionsConsumedConcurrently ?? 3,
      eachBatch: (payload) => this.eachBatch(payload),
    });
  }

  /** Stops consuming after the batch in hand, then disconnects; bounded by `boundMs`. */
  async stop(boundMs = 10_000): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.race([
      this.consumer.disconnect(),
      new Promise((resolve) => setTimeout(resolve, boundMs).unref()),
    ]);
    await this.txProducer?.disconnect();
  }

  /**
   * Outputs and the next offset in one transaction; aborted (and rethrown) on any failure.
   * Group commit: flushes that arrive while a transaction runs wait and then go together in the next
   * one (every partition's offset in one sendOffsets). One transaction per flush serialised the
   * partitions behind each other (~tens of ms each) and capped dispatch near 100 records/s.
   */
  private commitInTransaction(emits: Emit[], topic: string, partition: number, next: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.txWaiting.push({ emits, topic, partition, next, resolve, reject });
      if (!this.txRunning) void this.drainTransactions();
    });
  }

  private async drainTransactions(): Promise<void> {
    this.txRunning = true;
    try {
      while (this.txWaiting.length > 0) {
        const group = this.txWaiting.splice(0);
        try {
          await this.runTransaction(group);
          for (const g of group) g.resolve();
        } catch (err) {
          for (const g of group) g.reject(err);
        }
      }
    } finally {
      this.txRunning = false;
    }
  }

  private async runTransaction(group: PendingFlush[]): Promise<void> {
    const producer = this.txProducer!;
    const emits = group.flatMap((g) => g.emits);
    const values = await Promise.all(emits.map((e) => this.opts.serde.encode(e.topic, e.value)));
    const offsets = new Map<string, Map<number, string>>();
    for (const g of group) {
      const parts = offsets.get(g.topic) ?? new Map<number, string>();
      const had = parts.get(g.partition);
      if (had === undefined || BigInt(g.next) > BigInt(had)) parts.set(g.partition, g.next);
      offsets.set(g.topic, parts);
    }
    const topics = [...offsets].map(([topic, parts]) => ({
      topic,
      partitions: [...parts].map(([partition, offset]) => ({ partition, offset })),
    }));
    // The broker answers CONCURRENT_TRANSACTIONS (retriable) while the previous transaction's
    // markers are still being written: abort, back off and run the whole transaction again,
    // rather than failing the batch (which makes kafkajs restart the consumer and rejoin).
    for (let attempt = 1; ; attempt++) {
      const tx = await producer.transaction();
      try {
        if (emits.length > 0) {
          await tx.sendBatch({ acks: -1, topicMessages: groupByTopic(emits, values) });
        }
        await tx.sendOffsets({ consumerGroupId: this.opts.groupId, topics });
        await tx.commit();
        return;
      } catch (err) {
        await tx.abort().catch(() => undefined);
        if (attempt >= TX_ATTEMPTS || !isTransient(err)) throw err;
        this.opts.logger.warn(
          { attempt, err: (err as Error).message, partitions: group.length },
          'transaction retried',
        );
        await new Promise((r) => setTimeout(r, 50 * attempt));
      }
    }
  }

  private deferPartition(payload: EachBatchPayload, offset: string, untilMs: number): void {
    const { topic, partition } = payload.batch;
    const resume = payload.pause();
    this.consumer.seek({ topic, partition, offset });
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        if (!this.stopped) resume();
      },
      Math.max(0, untilMs - Date.now()),
    );
    this.timers.add(timer);
  }

  /** Decodes and handles one record; a poison record becomes its dead-letter emits. */
  private async processOne(
    topic: string,
    partition: number,
    message: KafkaMessage,
    log: Logger,
  ): Promise<Processed> {
    try {
      const { value } = await this.opts.serde.decode<T>(message.value);
      const out = await this.opts.handle({
        topic,
        partition,
        offset: message.offset,
        key: message.key ? message.key.toString() : null,
        value,
        headers: message.headers ?? {},
        timestamp: message.timestamp,
        raw: message,
      });
      this.counter?.inc({ consumer: this.opts.name, outcome: 'ok' });
      return { kind: 'done', out };
    } catch (err) {
      if (isTransient(err)) return { kind: 'transient', err };
      const reason = err instanceof DecodeError ? 'DECODE_FAILED' : 'HANDLER_FAILED';
      log.error(
        {
          offset: message.offset,
          errorCode: errorCode(err),
          err,
          correlationId: headerValue(message.headers, HEADERS.correlationId),
        },
        'poison record: dead-lettered',
      );
      this.counter?.inc({ consumer: this.opts.name, outcome: 'poison' });
      return { kind: 'done', out: this.opts.onPoison({ topic, partition, message }, err, reason) };
    }
  }

  /**
   * Handles a chunk: records grouped by key, groups run side by side (at most keyConcurrency at a
   * time), each group in offset order. After a transient failure the rest of that key's group is
   * skipped, so nothing of that key runs ahead of the record that must be tried again.
   */
  private async processChunk(
    topic: string,
    partition: number,
    chunk: KafkaMessage[],
    log: Logger,
  ): Promise<Processed[]> {
    const results: Processed[] = chunk.map(() => ({ kind: 'skipped' }));
    const groups = new Map<string, number[]>();
    chunk.forEach((m, i) => {
      const key = m.key ? m.key.toString('latin1') : `\u0000${i}`;
      groups.set(key, [...(groups.get(key) ?? []), i]);
    });
    const queue = [...groups.values()];
    const worker = async () => {
      for (let g = queue.shift(); g; g = queue.shift()) {
        for (const i of g) {
          results[i] = await this.processOne(topic, partition, chunk[i]!, log);
          if (results[i]!.kind === 'transient') break;
        }
      }
    };
    const width = Math.min(this.opts.keyConcurrency ?? 1, queue.length);
    await Promise.all(Array.from({ length: width }, worker));
    return results;
  }

  /**
   * Handles a batch: chunks of records (per key in order, keys side by side), outputs and offsets
   * committed together.
   */
  private async eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, isRunning, isStale, heartbeat, resolveOffset } = payload;
    const { topic, partition } = batch;
    const log = this.opts.logger.child({ consumer: this.opts.name, topic, partition });
    let pending: Emit[] = [];
    let lastDone: string | undefined;

    const flush = async () => {
      if (lastDone === undefined) return;
      const next = (BigInt(lastDone) + 1n).toString();
      if (this.txProducer) {
        await this.commitInTransaction(pending, topic, partition, next);
      } else {
        if (pending.length > 0) await this.produce(pending);
        await this.consumer.commitOffsets([{ topic, partition, offset: next }]);
      }
      resolveOffset(lastDone);
      pending = [];
      lastDone = undefined;
    };

    const messages = batch.messages;
    let at = 0;
    while (at < messages.length) {
      if (!isRunning() || isStale() || this.stopped) break;
      // The chunk ends before the first record that is not due yet (delay topics).
      let end = at;
      let notDue: { offset: string; until: number } | undefined;
      while (end < messages.length && end - at < (this.opts.keyConcurrency ?? 1) * 4) {
        const m = messages[end]!;
        const notBefore = this.opts.honourNotBefore ? headerNumber(m.headers, HEADERS.notBefore) : undefined;
        if (notBefore !== undefined && notBefore > Date.now()) {
          notDue = { offset: m.offset, until: notBefore };
          break;
        }
        end++;
      }
      const chunk = messages.slice(at, end);
      const results = chunk.length ? await this.processChunk(topic, partition, chunk, log) : [];
      for (const [i, r] of results.entries()) {
        if (r.kind !== 'done') {
          // Not the record's fault: keep it (and what follows it), try again later, commit what was
          // done before it. Later records already handled run again: handlers are idempotent.
          const message = chunk[i]!;
          if (r.kind === 'transient') {
            log.warn(
              { offset: message.offset, errorCode: errorCode(r.err), err: r.err },
              'retryable failure; record kept for a retry',
            );
          }
          await flush();
          this.counter?.inc({ consumer: this.opts.name, outcome: 'retry' });
          this.deferPartition(payload, message.offset, Date.now() + (this.opts.retryBackoffMs ?? 1000));
          return;
        }
        pending.push(...r.out);
        lastDone = chunk[i]!.offset;
      }
      if (pending.length >= 500) await flush();
      await heartbeat();
      at = end;
      if (notDue) {
        await flush();
        this.counter?.inc({ consumer: this.opts.name, outcome: 'deferred' });
        this.deferPartition(payload, notDue.offset, notDue.until);
        return;
      }
    }
    await flush();
  }

  private produce(emits: Emit[]): Promise<void> {
    return produceEmits(this.opts.producer, this.opts.serde, emits);
  }
}

function groupByTopic(emits: Emit[], values: Buffer[]) {
  const byTopic = new Map<
    string,
    { key: string | null; value: Buffer; headers?: Record<string, string> }[]
  >();
  emits.forEach((e, i) => {
    const list = byTopic.get(e.topic) ?? [];
    list.push({ key: e.key, value: values[i]!, headers: e.headers });
    byTopic.set(e.topic, list);
  });
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}

/** Encodes every emit, then one produce for the batch, acks from all in-sync replicas. */
export async function produceEmits(producer: Producer, serde: AvroSerde, emits: Emit[]): Promise<void> {
  const values = await Promise.all(emits.map((e) => serde.encode(e.topic, e.value)));
  await producer.sendBatch({ acks: -1, topicMessages: groupByTopic(emits, values) });
}
