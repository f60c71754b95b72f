// The one consumer loop every service uses (house rule 1): decode, call the handler, produce what it
// returns in one batch, commit, in that order. Handlers never touch Kafka.
//
// - A record that cannot be decoded, or that the handler refuses for good, becomes what
//   `onPoison` returns (normally a DLT record); its offset is committed and the partition flows on.
// - A retryable failure (Redis, registry or broker unreachable) is not the record's fault: nothing is
//   committed, the partition is paused and the same record is tried again after a backoff.
// - `x-not-before` in the future: the partition is paused until then (heartbeats go on) and the
//   record is re-read on resume. Retry topics are consumed this way.
// - Outputs go through a TransactionalSender (outputs + consumed offset in one transaction).
// - A consumer that kafkajs gives up on is started again, with a backoff, for ever; one whose fetch
//   loop falls silent or whose partitions keep lag without progress is restarted in place, and
//   `health()` says so for /healthz meanwhile (issue 20).
import { randomUUID } from 'node:crypto';
import type { SchemaName } from '@booking/schemas';
import type { Admin, Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { Counter, type Registry } from 'prom-client';
import { DecodeError, errorCode, isTransient } from '../errors.js';
import type { Logger } from '../logger.js';
import {
  type ConsumerHealth,
  type PartitionProgress,
  type PartitionSample,
  restartDelayMs,
  stalledPartitions,
} from './consumer-health.js';
import type { Emit, RecordHeaders, RecordSource } from './emit.js';
import { HEADERS, headerNumber, headerValue } from './headers.js';
import type { AvroSerde } from './serde.js';
import { type Encoded, OutputRejectedError, TransactionalSender } from './transactional-sender.js';

/** What a handler gets: the decoded value and where it came from; no Kafka client type. */
export interface RuntimeRecord<T> {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: T;
  headers: RecordHeaders;
  timestamp: string;
  /** The record as it was on the topic, for a dead letter. */
  source: RecordSource;
}

/** Why a record is poison: it does not decode, its handler refused it for good, or its outputs cannot be written. */
export type PoisonReason = 'DECODE_FAILED' | 'HANDLER_FAILED' | 'OUTPUT_REJECTED';

export type PoisonSource = RecordSource;

export interface ConsumerRuntimeOptions<T> {
  name: string;
  kafka: Kafka;
  /** The client its transactional producer uses (default `kafka`): one with TRANSACTION_RETRY. */
  producerKafka?: Kafka;
  groupId: string;
  topics: string[];
  /** The contract this consumer reads: records are resolved into it, from a writer schema registered under their topic's subject. */
  schema: SchemaName;
  serde: AvroSerde;
  logger: Logger;
  handle: (record: RuntimeRecord<T>) => Promise<Emit[]>;
  /** What to emit for a record that cannot be decoded or that the handler failed on for good. */
  onPoison: (source: PoisonSource, error: unknown, reason: PoisonReason) => Emit[];
  honourNotBefore?: boolean;
  partitionsConsumedConcurrently?: number;
  /** How long a fetch may wait for data; small on delay topics so a resumed partition is read promptly. */
  maxWaitTimeInMs?: number;
  /** Backoff before trying a record again after a retryable failure. */
  retryBackoffMs?: number;
  fromBeginning?: boolean;
  metrics?: Registry;
  /**
   * Consume → transform → produce exactly once (the default): the outputs and the consumed offset go
   * in one Kafka transaction (a TransactionalSender of this runtime's own; consumers read
   * committed). A crash before the commit leaves neither the outputs nor the offset. `false` for a
   * consumer that writes no records (audit): its offsets are committed plainly, and a handler that
   * returns records there is a programming error.
   */
  transactional?: boolean;
  /**
   * No fetch for this long, or an assigned partition with lag and an unmoved committed offset for
   * this long (partitions deferred on purpose aside): the consumer is stuck, /healthz says so and
   * the runtime restarts it in place. Default 60 s.
   */
  stuckAfterMs?: number;
  /**
   * Records of different keys in one partition handled at the same time, up to this many (one key's
   * records stay in order). 1 (the default) handles one record at a time. A slow call for one
   * appointment then no longer holds every appointment behind it on the partition (head-of-line
   * blocking measured by the issue 5 comparison: a 2 s provider timeout stalled a whole partition).
   */
  keyConcurrency?: number;
}

type Processed = { kind: 'done'; out: Encoded[] } | { kind: 'transient'; err: unknown } | { kind: 'skipped' };

interface RuntimeCounters {
  records: Counter<'consumer' | 'outcome'>;
  restarts: Counter<'consumer' | 'cause'>;
}
const counters = new WeakMap<Registry, RuntimeCounters>();
function runtimeCounters(registry: Registry | undefined): RuntimeCounters | undefined {
  if (!registry) return undefined;
  let c = counters.get(registry);
  if (!c) {
    c = {
      records: new Counter({
        name: 'booking_records_handled_total',
        help: 'Records handled by a consumer, by outcome (ok, poison, deferred, retry)',
        labelNames: ['consumer', 'outcome'],
        registers: [registry],
      }),
      restarts: new Counter({
        name: 'booking_consumer_restarts_total',
        help: 'Consumer restarts, by cause (crash: kafkajs restarted it; gave-up: kafkajs stopped and the runtime started it again; stuck: restarted in place; stopped: stopped without being asked and not started again by kafkajs)',
        labelNames: ['consumer', 'cause'],
        registers: [registry],
      }),
    };
    counters.set(registry, c);
  }
  return c;
}

/** How often the watchdog looks; committed offsets are read from the broker at this pace. */
const WATCH_INTERVAL_MS = 5000;

export class ConsumerRuntime<T> {
  private consumer: Consumer;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly counters: RuntimeCounters | undefined;
  private readonly sender: TransactionalSender | undefined;
  private readonly stuckAfterMs: number;
  private running = false;
  private stopped = false;
  private restarts = 0;
  /** Restarts in a row that did not get the consumer running again (for the backoff). */
  private failedStarts = 0;
  private restarting: Promise<void> | undefined;
  private lastActivity = Date.now();
  private assigned: { topic: string; partition: number }[] = [];
  private readonly deferred = new Map<string, number>();
  private readonly progress = new Map<string, PartitionProgress>();
  /**
   * Positions past batches that held only aborted records or markers: kafkajs moves past them
   * without a commit (autoCommit is off), so the committed offset alone would show lag that is not.
   */
  private readonly skippedTo = new Map<string, bigint>();
  private stalled: string[] = [];
  private admin: Admin | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private watching = false;
  /** When the consumer stopped without our asking (kafkajs may still be starting it again). */
  private stoppedAt: number | undefined;

  constructor(private readonly opts: ConsumerRuntimeOptions<T>) {
    if (opts.transactional !== false) {
      this.sender = new TransactionalSender({
        kafka: opts.producerKafka ?? opts.kafka,
        transactionalId: `${opts.groupId}.${opts.name}.${randomUUID()}`,
        serde: opts.serde,
        logger: opts.logger,
        name: opts.name,
        metrics: opts.metrics,
      });
    }
    this.stuckAfterMs = opts.stuckAfterMs ?? 60_000;
    this.counters = runtimeCounters(opts.metrics);
    this.consumer = this.createConsumer();
  }

  get name(): string {
    return this.opts.name;
  }

  /** True while the consumer is in its group and consuming (for /healthz). */
  get ready(): boolean {
    return this.running && !this.stopped;
  }

  /** Running, stuck, restarts: what /healthz reports for this consumer. */
  health(): ConsumerHealth {
    const stuck = this.running && this.stalled.length > 0;
    const reason = this.stopped
      ? 'stopped'
      : !this.running
        ? this.restarts > 0
          ? 'restarting'
          : 'not joined yet'
        : stuck
          ? `no progress: ${this.stalled.join(', ')}`
          : undefined;
    return { running: this.ready, stuck, restarts: this.restarts, ...(reason ? { reason } : {}) };
  }

  private createConsumer(): Consumer {
    const consumer = this.opts.kafka.consumer({
      groupId: this.opts.groupId,
      readUncommitted: false,
      maxWaitTimeInMs: this.opts.maxWaitTimeInMs ?? 500,
      allowAutoTopicCreation: false,
    });
    const { events } = consumer;
    const alive = () => {
      if (this.consumer === consumer) this.lastActivity = Date.now();
    };
    for (const e of [events.FETCH_START, events.FETCH, events.START_BATCH_PROCESS, events.HEARTBEAT])
      consumer.on(e, alive);
    consumer.on(events.END_BATCH_PROCESS, ({ payload }) => {
      if (this.consumer !== consumer || payload.batchSize !== 0 || payload.lastOffset == null) return;
      this.skippedTo.set(`${payload.topic}/${payload.partition}`, BigInt(payload.lastOffset) + 1n);
    });
    consumer.on(events.STOP, () => {
      if (this.consumer !== consumer || this.stopped) return;
      this.running = false;
      this.stoppedAt = Date.now();
    });
    consumer.on(events.GROUP_JOIN, ({ payload }) => {
      if (this.consumer !== consumer) return;
      this.running = true;
      this.stoppedAt = undefined;
      this.failedStarts = 0;
      this.lastActivity = Date.now();
      this.assigned = Object.entries(payload.memberAssignment).flatMap(([topic, parts]) =>
        parts.map((partition) => ({ topic, partition })),
      );
      this.progress.clear();
      this.stalled = [];
    });
    consumer.on(events.CRASH, ({ payload }) => {
      if (this.consumer !== consumer || this.stopped) return;
      this.running = false;
      this.restarts++;
      const error = payload.error as Error;
      if (payload.restart) {
        // kafkajs starts it again itself.
        this.counters?.restarts.inc({ consumer: this.opts.name, cause: 'crash' });
        this.opts.logger.warn(
          { consumer: this.opts.name, err: error?.message, restart: 'kafkajs' },
          'consumer crashed; kafkajs restarts it',
        );
        return;
      }
      // kafkajs has disconnected it for good (a non-retriable error such as "Failed to find group
      // coordinator" after a broker restart): start a new one.
      this.counters?.restarts.inc({ consumer: this.opts.name, cause: 'gave-up' });
      this.opts.logger.error(
        { consumer: this.opts.name, err: error?.message, errorName: error?.name },
        'consumer stopped by kafkajs; the runtime starts it again',
      );
      void this.restart();
    });
    return consumer;
  }

  async start(): Promise<void> {
    await this.sender?.start();
    await this.run(this.consumer);
    this.watchdog = setInterval(() => void this.watch(), WATCH_INTERVAL_MS);
    this.watchdog.unref();
  }

  private async run(consumer: Consumer): Promise<void> {
    await consumer.connect();
    for (const topic of this.opts.topics) {
      await consumer.subscribe({ topic, fromBeginning: this.opts.fromBeginning ?? true });
    }
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.opts.partitionsConsumedConcurrently ?? 3,
      eachBatch: (payload) => this.eachBatch(consumer, payload),
    });
  }

  /** A new consumer in place of the current one, after a backoff; tried again until it runs. */
  private restart(): Promise<void> {
    this.restarting ??= (async () => {
      while (!this.stopped) {
        this.failedStarts++;
        await new Promise<void>((resolve) => {
          const t = setTimeout(() => {
            this.timers.delete(t);
            resolve();
          }, restartDelayMs(this.failedStarts));
          this.timers.add(t);
        });
        if (this.stopped) return;
        const old = this.consumer;
        this.running = false;
        this.clearDeferrals();
        await Promise.race([old.disconnect().catch(() => undefined), sleep(5000)]);
        this.consumer = this.createConsumer();
        this.lastActivity = Date.now();
        try {
          await this.run(this.consumer);
          this.opts.logger.info(
            { consumer: this.opts.name, restarts: this.restarts },
            'consumer started again',
          );
          return;
        } catch (err) {
          this.opts.logger.error(
            { consumer: this.opts.name, err: (err as Error).message },
            'consumer could not start again; trying later',
          );
        }
      }
    })().finally(() => {
      this.restarting = undefined;
    });
    return this.restarting;
  }

  /** The watchdog: a silent fetch loop, or lag without progress, gets the consumer restarted. */
  private async watch(): Promise<void> {
    if (this.watching || this.stopped || this.restarting) return;
    // Stopped without our asking and not back: kafkajs restarts a consumer after a retriable crash,
    // within seconds; past the bound nobody will, so we do.
    if (!this.running) {
      if (this.stoppedAt !== undefined && Date.now() - this.stoppedAt > this.stuckAfterMs) {
        this.restarts++;
        this.counters?.restarts.inc({ consumer: this.opts.name, cause: 'stopped' });
        this.opts.logger.error(
          { consumer: this.opts.name },
          'consumer stopped and not started again; restarting it',
        );
        this.stoppedAt = undefined;
        this.failedStarts = 0;
        void this.restart();
      }
      return;
    }
    this.watching = true;
    try {
      const now = Date.now();
      const silent = now - this.lastActivity > this.stuckAfterMs;
      const samples = await this.sample().catch(() => undefined);
      if (samples) {
        this.stalled = stalledPartitions(samples, this.progress, now, this.stuckAfterMs, (t, p) =>
          this.deferred.get(`${t}/${p}`),
        );
      }
      if (silent) this.stalled = [`fetch loop silent for ${now - this.lastActivity} ms`, ...this.stalled];
      if (this.stalled.length > 0 && this.running && !this.stopped) {
        this.restarts++;
        this.counters?.restarts.inc({ consumer: this.opts.name, cause: 'stuck' });
        this.opts.logger.error(
          { consumer: this.opts.name, stalled: this.stalled },
          'consumer stuck; restarting it',
        );
        this.stalled = [];
        this.running = false;
        this.failedStarts = 0;
        void this.restart();
      }
    } finally {
      this.watching = false;
    }
  }

  /** Committed and end offsets of the partitions assigned to this member. */
  private async sample(): Promise<PartitionSample[]> {
    if (this.assigned.length === 0) return [];
    if (!this.admin) {
      const admin = this.opts.kafka.admin();
      await admin.connect();
      this.admin = admin;
    }
    const topics = [...new Set(this.assigned.map((a) => a.topic))];
    const committed = await this.admin.fetchOffsets({ groupId: this.opts.groupId, topics });
    const samples: PartitionSample[] = [];
    for (const topic of topics) {
      const ends = await this.admin.fetchTopicOffsets(topic);
      const mine = new Set(this.assigned.filter((a) => a.topic === topic).map((a) => a.partition));
      const byPartition = new Map(
        committed.find((c) => c.topic === topic)?.partitions.map((p) => [p.partition, p.offset]) ?? [],
      );
      for (const e of ends) {
        if (!mine.has(e.partition)) continue;
        const c = byPartition.get(e.partition);
        const committed = c === undefined || c === '-1' ? null : BigInt(c);
        const skipped = this.skippedTo.get(`${topic}/${e.partition}`);
        samples.push({
          topic,
          partition: e.partition,
          committed:
            skipped !== undefined && (committed === null || skipped > committed) ? skipped : committed,
          end: BigInt(e.high),
        });
      }
    }
    return samples;
  }

  /** Stops consuming after the batch in hand, then disconnects; bounded by `boundMs`. */
  async stop(boundMs = 10_000): Promise<void> {
    this.stopped = true;
    this.running = false;
    if (this.watchdog) clearInterval(this.watchdog);
    this.clearDeferrals();
    await Promise.race([this.consumer.disconnect(), sleep(boundMs)]);
    await this.sender?.stop();
    await this.admin?.disconnect().catch(() => undefined);
  }

  /** Cancels every pending resume (and restart back-off) timer. */
  private clearDeferrals(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.deferred.clear();
  }

  private deferPartition(
    consumer: Consumer,
    payload: EachBatchPayload,
    offset: string,
    untilMs: number,
  ): void {
    const { topic, partition } = payload.batch;
    const resume = payload.pause();
    consumer.seek({ topic, partition, offset });
    const id = `${topic}/${partition}`;
    this.deferred.set(id, untilMs);
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        if (this.deferred.get(id) === untilMs) this.deferred.delete(id);
        if (!this.stopped && this.consumer === consumer) resume();
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
      const { value } = await this.opts.serde.decode<T>(message.value, { topic, schema: this.opts.schema });
      const out = await this.opts.handle({
        topic,
        partition,
        offset: message.offset,
        key: message.key ? message.key.toString() : null,
        value,
        headers: message.headers ?? {},
        timestamp: message.timestamp,
        source: { topic, partition, message },
      });
      // Encoded here, per record: an output that cannot be written makes this record poison, not
      // the whole batch (issue 12: such a batch used to fail and be re-read for ever).
      const encoded = await this.encode(out);
      this.counters?.records.inc({ consumer: this.opts.name, outcome: 'ok' });
      return { kind: 'done', out: encoded };
    } catch (err) {
      if (isTransient(err)) return { kind: 'transient', err };
      const reason =
        err instanceof DecodeError
          ? 'DECODE_FAILED'
          : err instanceof OutputRejectedError
            ? 'OUTPUT_REJECTED'
            : 'HANDLER_FAILED';
      log.error(
        {
          offset: message.offset,
          errorCode: errorCode(err),
          err,
          correlationId: headerValue(message.headers, HEADERS.correlationId),
        },
        'poison record: dead-lettered',
      );
      this.counters?.records.inc({ consumer: this.opts.name, outcome: 'poison' });
      try {
        return {
          kind: 'done',
          out: await this.encode(this.opts.onPoison({ topic, partition, message }, err, reason)),
        };
      } catch (dltErr) {
        if (isTransient(dltErr)) return { kind: 'transient', err: dltErr };
        // Not even its dead letter can be written: say where it is, and move on.
        log.error(
          { offset: message.offset, errorCode: errorCode(dltErr), err: dltErr },
          'poison record could not be dead-lettered either: skipped',
        );
        this.counters?.records.inc({ consumer: this.opts.name, outcome: 'skipped' });
        return { kind: 'done', out: [] };
      }
    }
  }

  private async encode(out: Emit[]): Promise<Encoded[]> {
    if (out.length === 0) return [];
    if (!this.sender)
      throw new Error(`consumer ${this.opts.name} is not transactional and cannot write records`);
    return this.sender.prepare(out);
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
  private async eachBatch(consumer: Consumer, payload: EachBatchPayload): Promise<void> {
    const { batch, isRunning, isStale, heartbeat, resolveOffset } = payload;
    const { topic, partition } = batch;
    const log = this.opts.logger.child({ consumer: this.opts.name, topic, partition });
    let pending: Encoded[] = [];
    let lastDone: string | undefined;

    const flush = async () => {
      if (lastDone === undefined) return;
      const next = (BigInt(lastDone) + 1n).toString();
      if (this.sender) {
        await this.sender.sendEncoded(pending, [
          { groupId: this.opts.groupId, topic, partition, offset: next },
        ]);
      } else {
        if (pending.length > 0)
          throw new Error(`consumer ${this.opts.name} is not transactional and cannot write records`);
        await consumer.commitOffsets([{ topic, partition, offset: next }]);
      }
      this.lastActivity = Date.now();
      resolveOffset(lastDone);
      pending = [];
      lastDone = undefined;
    };

    const messages = batch.messages;
    let at = 0;
    while (at < messages.length) {
      if (!isRunning() || isStale() || this.stopped || this.consumer !== consumer) break;
      // The chunk ends before the first record that is not due yet (delay topics).
      let end = at;
      let notDue: { offset: string; until: number } | undefined;
      while (end < messages.length && end - at < (this.opts.keyConcurrency ?? 1) * 4) {
        const m = messages[end]!;
        const notBefore = this.opts.honourNotBefore ? dueAt(m.headers) : undefined;
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
          this.counters?.records.inc({ consumer: this.opts.name, outcome: 'retry' });
          this.deferPartition(
            consumer,
            payload,
            message.offset,
            Date.now() + (this.opts.retryBackoffMs ?? 1000),
          );
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
        this.counters?.records.inc({ consumer: this.opts.name, outcome: 'deferred' });
        this.deferPartition(consumer, payload, notDue.offset, notDue.until);
        return;
      }
    }
    await flush();
  }
}

/**
 * When a delayed record is due: its x-not-before, unless that lies more than MAX_DEFER_MS ahead:
 * every delay the pipeline sets is far shorter, and a header claiming next year would pause its
 * partition, and every record behind it, until then (issue 12). Such a record is due now.
 */
export const MAX_DEFER_MS = 3_600_000;
function dueAt(headers: KafkaMessage['headers']): number | undefined {
  const notBefore = headerNumber(headers, HEADERS.notBefore);
  return notBefore === undefined || notBefore > Date.now() + MAX_DEFER_MS ? undefined : notBefore;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
