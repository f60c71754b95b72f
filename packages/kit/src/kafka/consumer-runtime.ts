// The one consumer loop every service uses (house rule 1). Handlers never touch Kafka.
//
// Records are handed out as they are fetched and handled per key in order, across keys side by side
// (at most `keyConcurrency` at a time), the model of Confluent's Parallel Consumer: one
// appointment's slow provider call, poll or retry wait holds only that appointment's later records
// (issue 13: one 3 s answer held every partition of its consumer, because kafkajs fetches again only
// after every batch of the last fetch is handled). The parts, each in a file of its own:
// - KeyScheduler (key-scheduler.ts): per key in order, across keys concurrent, bounded;
// - RecordProcessor (record-processor.ts): decode, handle, encode; poison becomes its dead letter;
// - PartitionWork (partition-work.ts) over an OffsetTracker (offset-tracker.ts): per partition, the
//   records open, the transaction batcher (one transaction in flight, outputs of records that finish
//   meanwhile go in the next), and the offset committed: one past the finished prefix, never past a
//   record still open;
// - a record not due yet (`x-not-before` on retry and poll topics) waits in its key's place in the
//   KeyScheduler, without a slot and without pausing its partition;
// - PartitionPauses (partition-pauses.ts): past a bound of open records, the rest of a fetched
//   batch waits in memory, its partition paused, and goes out as records finish;
// - one TransactionalSender per input partition, its transactional id stable (group, topic,
//   partition): whoever takes the partition over fences the previous owner's producer (a zombie's
//   transaction cannot commit), as Kafka Streams did before KIP-447;
// - the watchdog (consumer-health.ts rules): a silent fetch loop, lag without progress or a handler
//   call past the bound (a wedged call) restarts the consumer in place, and `health()` says so for /healthz (issue 20).
// A retryable failure (Redis, registry or broker unreachable) is not the record's fault: the record
// is tried again after a backoff, in its key's place. A transaction that fails for good (the sender
// tried for its whole budget) leaves its outputs in doubt: the consumer is started again, its
// senders settle the old transaction, and reading resumes from the committed offsets.
import type { SchemaName } from '@booking/schemas';
import type {
  Admin,
  Consumer,
  ConsumerUndecodableBatchEvent,
  EachBatchPayload,
  Kafka,
  KafkaMessage,
} from 'kafkajs';
import { Counter, type Registry } from 'prom-client';
import { errorCode } from '../errors.js';
import type { Logger } from '../logger.js';
import { alertsCounter } from '../metrics.js';
import { CODEC_IDS } from './codecs.js';
import {
  type ConsumerHealth,
  type PartitionProgress,
  restartDelayMs,
  sampleAssigned,
  stalledPartitions,
} from './consumer-health.js';
import type { Emit } from './emit.js';
import { HEADERS, headerNumber } from './headers.js';
import { KeyScheduler } from './key-scheduler.js';
import { decodeFinished } from './offset-tracker.js';
import { PartitionPauses } from './partition-pauses.js';
import { type Commit, PartitionWork } from './partition-work.js';
import { pausedSince, watchProcessPauses } from './process-pauses.js';
import {
  type PoisonReason,
  type PoisonSource,
  RecordProcessor,
  type RuntimeRecord,
} from './record-processor.js';
import type { AvroSerde } from './serde.js';
import { type Encoded, prepareRecords, TransactionalSender } from './transactional-sender.js';

export type { PoisonReason, PoisonSource, RuntimeRecord } from './record-processor.js';

export interface ConsumerRuntimeOptions<T> {
  name: string;
  kafka: Kafka;
  /** The client its transactional producers use (default `kafka`): one with TRANSACTION_RETRY. */
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
   * in one Kafka transaction (consumers read committed). A crash before the commit leaves neither
   * the outputs nor the offset. `false` for a consumer that writes no records (audit): its offsets
   * are committed plainly, and a handler that returns records there is a programming error.
   */
  transactional?: boolean;
  /**
   * No fetch for this long, or an assigned partition with lag and an unmoved committed offset for
   * this long (partitions deferred on purpose aside): the consumer is stuck, /healthz says so and
   * the runtime restarts it in place. Default 60 s.
   */
  stuckAfterMs?: number;
  /** Records handled at the same time, across keys and partitions (default 16); one key's records stay in order. */
  keyConcurrency?: number;
  /**
   * Records ready to run (or running) across the consumer's partitions before the partition being
   * read is held (default 4 × keyConcurrency): the rest of its fetched batch waits in memory, at
   * most one fetch a partition, and goes out as records finish. Also the bound on one partition's
   * open records of any kind. A backlog beyond that waits in Kafka, where lag shows it, and no
   * record queues behind thousands of others (an overloaded first version let 30,000 queue and
   * called its own consumers stuck).
   */
  maxOpen?: number;
}

interface RuntimeCounters {
  records: Counter<'consumer' | 'outcome'>;
  restarts: Counter<'consumer' | 'cause'>;
  undecodable: Counter<'consumer' | 'topic' | 'codec'>;
  alerts: Counter<'kind'>;
}
const counters = new WeakMap<Registry, RuntimeCounters>();
function runtimeCounters(registry: Registry | undefined): RuntimeCounters | undefined {
  if (!registry) return undefined;
  let c = counters.get(registry);
  if (!c) {
    c = {
      records: new Counter({
        name: 'booking_records_handled_total',
        help: 'Records handled by a consumer, by outcome (ok, poison, skipped, deferred, retry)',
        labelNames: ['consumer', 'outcome'],
        registers: [registry],
      }),
      restarts: new Counter({
        name: 'booking_consumer_restarts_total',
        help: 'Consumer restarts, by cause (crash: kafkajs restarted it; gave-up: kafkajs stopped and the runtime started it again; stuck: restarted in place; stopped: stopped without being asked and not started again by kafkajs; send-failed: a transaction failed for good)',
        labelNames: ['consumer', 'cause'],
        registers: [registry],
      }),
      undecodable: new Counter({
        name: 'booking_undecodable_batches_total',
        help: 'Record batches a consumer could not decompress (its partition paused until a restart), by topic and codec',
        labelNames: ['consumer', 'topic', 'codec'],
        registers: [registry],
      }),
      alerts: alertsCounter(registry),
    };
    counters.set(registry, c);
  }
  return c;
}

/** kafkajs's consumer session timeout (its default, set explicitly): past it the group drops a silent member. */
const SESSION_TIMEOUT_MS = 30_000;

/** kafkajs's retry for the consumer's own requests, and so the wait before it restarts after a crash. */
const CONSUMER_RETRY = { initialRetryTime: 300, maxRetryTime: 3000, retries: 8 };

/** How often the watchdog looks; committed offsets are read from the broker at this pace. */
const WATCH_INTERVAL_MS = 5000;

/** One kafkajs consumer and the state that lives and dies with it (a restart makes a new one). */
interface Incarnation {
  consumer: Consumer;
  scheduler: KeyScheduler;
  pauses: PartitionPauses<KafkaMessage>;
  works: Map<string, { work: PartitionWork; log: Logger }>;
  /** Records being handled now (their handler called), with when it was called: a wedged call shows here. */
  handling: Map<KafkaMessage, number>;
  /** Records handed out not due yet and not started: they wait on a timer and cost only memory. */
  sleeping: number;
  /** Committed positions and metadata of the partitions assigned at the last join (transactional only). */
  committed: Promise<Map<string, { offset: bigint; metadata: string | null }>>;
  /** The member id of the last join (a new one: the member was dropped meanwhile). */
  memberId?: string;
  /** After a rejoin as a new member: the next reading of committed positions also seeks to them. */
  seekToCommitted?: boolean;
}

export class ConsumerRuntime<T> {
  private inc: Incarnation;
  private readonly counters: RuntimeCounters | undefined;
  private readonly processor: RecordProcessor<T>;
  /** Per input partition, its transactional sender (stable id: the fencing unit). */
  private readonly senders = new Map<string, TransactionalSender>();
  private readonly transactional: boolean;
  private readonly stuckAfterMs: number;
  private readonly keyConcurrency: number;
  private readonly maxOpen: number;
  private running = false;
  private stopped = false;
  private restarts = 0;
  /** Restarts in a row that did not get the consumer running again (for the backoff). */
  private failedStarts = 0;
  private restarting: Promise<void> | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private lastActivity = Date.now();
  private assigned: { topic: string; partition: number }[] = [];
  private readonly progress = new Map<string, PartitionProgress>();
  /**
   * Positions past the last batch read whole (its trailing aborted records and markers included,
   * and batches of nothing else): kafkajs moves past them without a commit (autoCommit is off), so
   * the committed offset alone would show lag that is not.
   */
  private readonly skippedTo = new Map<string, bigint>();
  private stalled: string[] = [];
  private admin: Admin | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private watching = false;
  /** When the consumer stopped without our asking (kafkajs may still be starting it again). */
  private stoppedAt: number | undefined;
  /** The last time the group confirmed this member (a heartbeat answered, or a join). */
  private lastConfirmed = 0;
  /** The last join of the current consumer. */
  private lastJoin = 0;
  /** The group is rebalancing and this member has not joined the new generation yet. */
  private rebalancing = false;
  /**
   * Assigned partitions paused at a record batch that cannot be decompressed (issue 31), with the
   * batch: nothing after it can be read, so the partition waits for a person (docs/operations.md)
   * and /healthz says so; the other partitions flow on.
   */
  private readonly undecodable = new Map<string, { offset: string; lastOffset: string; codec: string }>();

  constructor(private readonly opts: ConsumerRuntimeOptions<T>) {
    this.transactional = opts.transactional !== false;
    this.stuckAfterMs = opts.stuckAfterMs ?? 60_000;
    this.keyConcurrency = opts.keyConcurrency ?? 16;
    this.maxOpen = opts.maxOpen ?? this.keyConcurrency * 4;
    this.counters = runtimeCounters(opts.metrics);
    this.processor = new RecordProcessor<T>({
      name: opts.name,
      schema: opts.schema,
      serde: opts.serde,
      handle: opts.handle,
      onPoison: opts.onPoison,
      prepare: (out) => this.prepare(out),
      ...(this.counters ? { records: this.counters.records } : {}),
    });
    this.inc = this.incarnation();
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
    const blocked = [...this.undecodable].map(
      ([id, b]) => `${id} offset ${b.offset} (${b.codec}) cannot be decompressed`,
    );
    const stuck = this.running && (this.stalled.length > 0 || blocked.length > 0);
    const reason = this.stopped
      ? 'stopped'
      : !this.running
        ? this.restarts > 0
          ? 'restarting'
          : 'not joined yet'
        : stuck
          ? [
              ...(this.stalled.length > 0 ? [`no progress: ${this.stalled.join(', ')}`] : []),
              ...blocked,
            ].join('; ')
          : undefined;
    return { running: this.ready, stuck, restarts: this.restarts, ...(reason ? { reason } : {}) };
  }

  async start(): Promise<void> {
    watchProcessPauses();
    await this.run(this.inc);
    this.watchdog = setInterval(() => void this.watch(), WATCH_INTERVAL_MS);
    this.watchdog.unref();
  }

  /**
   * Stops handing out records, lets the records being handled finish and their transactions
   * commit, then leaves the group and disconnects; bounded by `boundMs` in all.
   */
  async stop(boundMs = 10_000): Promise<void> {
    this.stopped = true;
    this.running = false;
    if (this.watchdog) clearInterval(this.watchdog);
    clearTimeout(this.restartTimer);
    const inc = this.inc;
    inc.pauses.close();
    inc.scheduler.close();
    const deadline = Date.now() + boundMs;
    const left = () => Math.max(0, deadline - Date.now());
    await Promise.race([inc.scheduler.idle(), sleep(left() / 2)]);
    await Promise.race([
      Promise.all([...inc.works.values()].map((w) => w.work.settled())),
      sleep(left() / 2),
    ]);
    await Promise.race([inc.consumer.disconnect().catch(() => undefined), sleep(left())]);
    await Promise.all([...this.senders.values()].map((s) => s.stop(Math.max(1000, left()))));
    this.senders.clear();
    await this.admin?.disconnect().catch(() => undefined);
  }

  private incarnation(): Incarnation {
    const consumer = this.opts.kafka.consumer({
      groupId: this.opts.groupId,
      sessionTimeout: SESSION_TIMEOUT_MS,
      // kafkajs restarts a crashed consumer after its last retry's wait, which grows to 30 s by
      // default: after a broker outage the consumer sat idle for half a minute. At most 3 s here.
      retry: CONSUMER_RETRY,
      readUncommitted: false,
      maxWaitTimeInMs: this.opts.maxWaitTimeInMs ?? 500,
      allowAutoTopicCreation: false,
    });
    const inc: Incarnation = {
      consumer,
      scheduler: new KeyScheduler(this.keyConcurrency),
      pauses: new PartitionPauses<KafkaMessage>(consumer),
      works: new Map(),
      handling: new Map(),
      sleeping: 0,
      committed: Promise.resolve(new Map()),
    };
    const current = () => this.inc === inc;
    const { events } = consumer;
    const alive = () => {
      if (current()) this.lastActivity = Date.now();
    };
    for (const e of [events.FETCH_START, events.FETCH, events.START_BATCH_PROCESS, events.HEARTBEAT])
      consumer.on(e, alive);
    consumer.on(events.HEARTBEAT, () => {
      if (current()) this.lastConfirmed = Date.now();
    });
    // Until the next join this member may be losing partitions to another: its senders do not
    // register their ids anew meanwhile (that fenced the partition's next owner).
    consumer.on(events.REBALANCING, () => {
      if (current()) this.rebalancing = true;
    });
    consumer.on(events.END_BATCH_PROCESS, ({ payload }) => {
      // A batch of aborted records or markers only: eachBatch never sees it.
      if (!current() || payload.batchSize !== 0 || payload.lastOffset == null || payload.firstOffset == null)
        return;
      const next = (BigInt(payload.lastOffset) + 1n).toString();
      this.skippedTo.set(`${payload.topic}/${payload.partition}`, BigInt(next));
      if (this.stopped) return;
      const first = BigInt(payload.firstOffset);
      void this.workOf(inc, payload.topic, payload.partition).then(({ work }) => {
        // Only right after what this work has had: never past a record it was not handed.
        const had = work.lastBegun;
        if (had === undefined || first <= had + 1n) work.advanceTo(next);
      });
    });
    consumer.on(events.UNDECODABLE_BATCH, ({ payload }) => {
      if (current() && !this.stopped) this.undecodableBatch(consumer, payload);
    });
    consumer.on(events.STOP, () => {
      if (!current() || this.stopped) return;
      this.running = false;
      this.stoppedAt = Date.now();
    });
    consumer.on(events.GROUP_JOIN, ({ payload }) => {
      if (!current()) {
        // A consumer this runtime replaced, started again by kafkajs's own restart timer after the
        // runtime gave up waiting for its disconnect: a ghost member holding partitions nobody
        // handles (the broker-kill round: two partitions lagging for good). Out of the group.
        this.opts.logger.warn({ consumer: this.opts.name }, 'a replaced consumer joined its group; leaving');
        void consumer.disconnect().catch(() => undefined);
        return;
      }
      this.lastJoin = Date.now();
      this.rebalancing = false;
      // A new member id means this member was dropped from the group meanwhile (it paused past its
      // session timeout, a zombie): another member may have owned its partitions since, so nothing
      // it had open may finish and commit. Every work goes, and the partitions are read again from
      // their committed positions.
      this.lastConfirmed = Date.now();
      const continuous = inc.memberId === undefined || inc.memberId === payload.memberId;
      inc.memberId = payload.memberId;
      if (!continuous) {
        for (const [id, { work }] of inc.works) {
          work.abandon();
          this.senders.get(id)?.supersede();
          const [topic, partition] = splitId(id);
          inc.pauses.forget(topic, partition);
        }
        inc.works.clear();
        inc.seekToCommitted = true;
        this.opts.logger.warn(
          { consumer: this.opts.name },
          'rejoined as a new member: open work dropped, partitions read again from their commits',
        );
      }
      this.running = true;
      this.stoppedAt = undefined;
      this.failedStarts = 0;
      this.lastActivity = Date.now();
      this.assigned = Object.entries(payload.memberAssignment).flatMap(([topic, parts]) =>
        parts.map((partition) => ({ topic, partition })),
      );
      this.progress.clear();
      this.stalled = [];
      this.rejoined(inc);
    });
    consumer.on(events.CRASH, ({ payload }) => {
      if (!current() || this.stopped) return;
      this.running = false;
      this.restarts++;
      const error = payload.error as Error;
      if (payload.restart) {
        // kafkajs starts it again itself and rejoins (GROUP_JOIN: kept partitions keep their work).
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
    return inc;
  }

  /**
   * A new generation. A partition this member keeps keeps its work: what is open finishes and
   * commits as before, and a record kafkajs hands over again is recognised and skipped. A partition
   * it lost is dropped: what is still running there finishes unheeded. Dropping every partition's
   * work here, as a first version did, lost records: kafkajs can go on from the positions it had
   * resolved rather than the committed ones, so records handed out before the rejoin were never
   * read again (the broker-restart fault test caught a partition with lag and no progress).
   * Every assigned partition's sender registers its transactional id now, not at its first
   * record: that fences the previous owner at once and aborts whatever transaction it left open,
   * which read_committed readers downstream would otherwise wait on until the transaction timeout.
   * Senders are never closed before the runtime stops: one closed mid-transaction leaves that
   * transaction open, and nothing else would register its id to abort it.
   */
  private rejoined(inc: Incarnation): void {
    const mine = new Set(this.assigned.map((a) => `${a.topic}/${a.partition}`));
    for (const id of this.undecodable.keys()) if (!mine.has(id)) this.undecodable.delete(id);
    for (const [id, { work }] of inc.works) {
      if (mine.has(id)) continue;
      work.abandon();
      this.senders.get(id)?.supersede();
      const [topic, partition] = splitId(id);
      inc.pauses.forget(topic, partition);
      inc.works.delete(id);
    }
    if (!this.transactional) return;
    // A partition this process owned before (a kafkajs restart, or lost and given back) may still
    // have a transaction of the last generation's work on its way: its sender is this same one, so
    // nothing fences it. Its committed position is read once that has landed; read before, it is the
    // old one, and records whose outcome was just committed are handled again (the chaos run's
    // broker restart: one appointment confirmed twice).
    const fresh = this.assigned.filter((a) => !inc.works.has(`${a.topic}/${a.partition}`));
    const freshIds = new Set(fresh.map((a) => `${a.topic}/${a.partition}`));
    // A partition just given to this member is registered anew (a new epoch), which fences whoever
    // held it in between and settles what that one left open; one it kept keeps its producer.
    const registered: Promise<unknown>[] = [];
    for (const { topic, partition } of this.assigned) {
      const sender = this.senderFor(topic, partition);
      const done = (freshIds.has(`${topic}/${partition}`) ? sender.register() : sender.settle()).catch(
        (err: unknown) =>
          this.opts.logger.warn(
            { consumer: this.opts.name, topic, partition, err: (err as Error).message },
            'transactional producer not registered yet; its first transaction registers it',
          ),
      );
      if (freshIds.has(`${topic}/${partition}`)) registered.push(done);
    }
    const seek = inc.seekToCommitted === true;
    inc.seekToCommitted = false;
    // Positions are read once those registrations are done: a transaction still on its way (this
    // process's own, or the previous owner's) has landed or been aborted by then.
    inc.committed = (async () => {
      await Promise.all(registered);
      const positions = await this.committedPositions(fresh);
      if (seek)
        for (const [id, c] of positions) {
          const [topic, partition] = splitId(id);
          try {
            inc.consumer.seek({ topic, partition, offset: c.offset.toString() });
          } catch (err) {
            // kafkajs restarting its group meanwhile: it resolves positions from the commits itself.
            this.opts.logger.warn(
              { consumer: this.opts.name, topic, partition, err: (err as Error).message },
              'seek to the committed position not taken',
            );
          }
        }
      return positions;
    })();
  }

  private async run(inc: Incarnation): Promise<void> {
    await inc.consumer.connect();
    for (const topic of this.opts.topics) {
      await inc.consumer.subscribe({ topic, fromBeginning: this.opts.fromBeginning ?? true });
    }
    await inc.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.opts.partitionsConsumedConcurrently ?? 3,
      eachBatch: async (payload) => this.eachBatch(inc, payload),
    });
  }

  /** A new consumer in place of the current one, after a backoff; tried again until it runs. */
  private restart(): Promise<void> {
    this.restarting ??= (async () => {
      while (!this.stopped) {
        this.failedStarts++;
        await new Promise<void>((resolve) => {
          this.restartTimer = setTimeout(resolve, restartDelayMs(this.failedStarts));
        });
        if (this.stopped) return;
        const old = this.inc;
        this.running = false;
        old.pauses.close();
        old.scheduler.close();
        for (const { work } of old.works.values()) work.abandon();
        // What the old incarnation queued is not sent, nor retried under a new registration.
        for (const s of this.senders.values()) s.supersede();
        await Promise.race([old.consumer.disconnect().catch(() => undefined), sleep(5000)]);
        // What the old incarnation has on its way commits (or fails) before anyone reads positions.
        await Promise.all([...this.senders.values()].map((s) => s.idle()));
        // Nothing is registered here: the new incarnation's join registers the id of every partition
        // the group gives it (which settles whatever a failed transaction left open) before reading
        // its committed position. Registering every id here, as before, fenced the members that own
        // the partitions this one lost (a zombie woken from a pause fenced its successor).
        this.inc = this.incarnation();
        this.lastActivity = Date.now();
        try {
          await this.run(this.inc);
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

  /**
   * Whether this member's senders may register their ids again on their own: not while the group
   * rebalances (until this member's next join), not once the process was paused since its last join
   * (a zombie until the group confirms it anew), nor when the group has not confirmed it for longer
   * than a session and a half. A broker outage is ridden out.
   */
  private confirmedRecently(): boolean {
    const now = Date.now();
    return (
      !this.stopped &&
      !this.rebalancing &&
      !pausedSince(this.lastJoin, now) &&
      now - this.lastConfirmed < SESSION_TIMEOUT_MS * 1.5
    );
  }

  /** The watchdog: a silent fetch loop, or lag without progress, gets the consumer restarted. */
  private async watch(): Promise<void> {
    if (this.watching || this.stopped || this.restarting) return;
    // Stopped without our asking and not back: kafkajs restarts a consumer after a retriable crash,
    // within seconds; past the bound nobody will, so we do.
    if (!this.running) {
      if (this.stoppedAt !== undefined && Date.now() - this.stoppedAt > this.stuckAfterMs) {
        this.opts.logger.error(
          { consumer: this.opts.name },
          'consumer stopped and not started again; restarting it',
        );
        this.stoppedAt = undefined;
        this.restartFor('stopped');
      }
      return;
    }
    this.watching = true;
    try {
      const now = Date.now();
      const silent = now - this.lastActivity > this.stuckAfterMs;
      const samples = await this.sample().catch(() => undefined);
      // A partition whose lowest open record waits for its due time is waiting on purpose.
      const waitingSince = (t: string, p: number) => this.inc.works.get(`${t}/${p}`)?.work.oldestOpen?.since;
      // A partition paused at an undecodable batch is reported as such; restarting would not help.
      const readable = samples?.filter((x) => !this.undecodable.has(`${x.topic}/${x.partition}`));
      const stalled = readable
        ? stalledPartitions(readable, this.progress, now, this.stuckAfterMs, waitingSince)
        : [];
      // A handler call past the bound holds its key and every commit of its partition (a wedged
      // call). Waiting for a slot is not counted: that is load, and lag shows it.
      let oldest: number | undefined;
      for (const since of this.inc.handling.values()) oldest = Math.min(oldest ?? since, since);
      if (oldest !== undefined && now - oldest > this.stuckAfterMs)
        stalled.push(`a record in its handler for ${now - oldest} ms`);
      if (silent) stalled.unshift(`fetch loop silent for ${now - this.lastActivity} ms`);
      this.stalled = stalled;
      if (this.stalled.length > 0 && this.running && !this.stopped) {
        this.opts.logger.error(
          { consumer: this.opts.name, stalled: this.stalled },
          'consumer stuck; restarting it',
        );
        this.stalled = [];
        this.restartFor('stuck');
      }
    } finally {
      this.watching = false;
    }
  }

  /**
   * kafkajs met a record batch it cannot decompress (the records before it were handed out): the
   * partition is paused, or fetched again at once for ever, and an operator is told which batch.
   * Reported once per batch; a new consumer (a restart) meets it again and is paused again.
   */
  private undecodableBatch(consumer: Consumer, b: ConsumerUndecodableBatchEvent['payload']): void {
    const id = `${b.topic}/${b.partition}`;
    consumer.pause([{ topic: b.topic, partitions: [b.partition] }]);
    const codec = CODEC_IDS[b.codec] ?? `unknown codec id ${b.codec}`;
    if (this.undecodable.get(id)?.offset === b.offset) return;
    this.undecodable.set(id, { offset: b.offset, lastOffset: b.lastOffset, codec });
    this.counters?.undecodable.inc({ consumer: this.opts.name, topic: b.topic, codec });
    this.counters?.alerts.inc({ kind: 'undecodable-batch' });
    this.opts.logger.error(
      {
        alert: 'UndecodableRecordBatch',
        consumer: this.opts.name,
        topic: b.topic,
        partition: b.partition,
        offset: b.offset,
        lastOffset: b.lastOffset,
        codec,
        err: b.reason,
      },
      'a record batch cannot be decompressed: partition paused (docs/operations.md, "A batch that cannot be decompressed")',
    );
  }

  private restartFor(cause: 'stuck' | 'stopped' | 'send-failed'): void {
    if (this.stopped || this.restarting) return;
    this.restarts++;
    this.counters?.restarts.inc({ consumer: this.opts.name, cause });
    this.running = false;
    this.failedStarts = 0;
    void this.restart();
  }

  private async sample() {
    if (!this.admin) {
      const admin = this.opts.kafka.admin();
      await admin.connect();
      this.admin = admin;
    }
    return sampleAssigned(this.admin, this.opts.groupId, this.assigned, this.skippedTo);
  }

  /**
   * The committed positions and metadata of partitions newly assigned: the finished offsets the
   * previous owner recorded above its position are skipped, not handled again. Bounded; without
   * them (the coordinator away) records are handled again, as at least once allows.
   */
  private async committedPositions(parts: { topic: string; partition: number }[]) {
    const out = new Map<string, { offset: bigint; metadata: string | null }>();
    if (parts.length === 0) return out;
    try {
      if (!this.admin) {
        const admin = this.opts.kafka.admin();
        await admin.connect();
        this.admin = admin;
      }
      const admin = this.admin;
      const topics = [...new Set(parts.map((p) => p.topic))];
      const read = await Promise.race([
        admin.fetchOffsets({ groupId: this.opts.groupId, topics }),
        sleep(10_000).then(() => {
          throw new Error('no answer within 10 s');
        }),
      ]);
      for (const t of read)
        for (const p of t.partitions)
          if (p.offset !== '-1')
            out.set(`${t.topic}/${p.partition}`, { offset: BigInt(p.offset), metadata: p.metadata || null });
    } catch (err) {
      this.opts.logger.warn(
        { consumer: this.opts.name, err: (err as Error).message },
        'committed metadata not read: records finished by the last owner may be handled again',
      );
    }
    return out;
  }

  private prepare(out: Emit[]): Promise<Encoded[]> {
    if (out.length === 0) return Promise.resolve([]);
    if (!this.transactional)
      throw new Error(`consumer ${this.opts.name} is not transactional and cannot write records`);
    return prepareRecords(this.opts.serde, out);
  }

  /** The sender of an input partition, made on first use; its transactional id names the partition. */
  private senderFor(topic: string, partition: number): TransactionalSender {
    const id = `${topic}/${partition}`;
    let sender = this.senders.get(id);
    if (!sender) {
      sender = new TransactionalSender({
        kafka: this.opts.producerKafka ?? this.opts.kafka,
        transactionalId: `${this.opts.groupId}.${topic}.${partition}`,
        serde: this.opts.serde,
        logger: this.opts.logger,
        name: this.opts.name,
        metrics: this.opts.metrics,
        // A member woken from a pause, or not confirmed by its group for long, may have been dropped
        // (a zombie): its senders do not register their ids again on their own.
        ...(this.transactional ? { mayRegister: () => this.confirmedRecently() } : {}),
      });
      this.senders.set(id, sender);
    }
    return sender;
  }

  private workFor(
    inc: Incarnation,
    topic: string,
    partition: number,
    previous?: { finished: ReadonlySet<bigint>; position: bigint },
  ) {
    const id = `${topic}/${partition}`;
    let entry = inc.works.get(id);
    if (!entry) {
      const log = this.opts.logger.child({ consumer: this.opts.name, topic, partition });
      const work: PartitionWork = new PartitionWork({
        send: (records, commit) => this.commit(inc, topic, partition, records, commit),
        onBroken: (err) => {
          log.error(
            { errorCode: errorCode(err), err },
            'transaction failed for good; consumer started again',
          );
          if (this.inc === inc) this.restartFor('send-failed');
        },
        ...(previous ? { finishedBefore: previous.finished, committedPosition: previous.position } : {}),
        onMetadataDropped: (count) =>
          this.counters?.records.inc({ consumer: this.opts.name, outcome: 'finished-unmarked' }, count),
      });
      entry = { work, log };
      inc.works.set(id, entry);
    }
    return entry;
  }

  /** The partition's work; a new one learns what the previous owner finished above its position. */
  private async workOf(inc: Incarnation, topic: string, partition: number) {
    const id = `${topic}/${partition}`;
    if (inc.works.has(id) || !this.transactional) return this.workFor(inc, topic, partition);
    const c = (await inc.committed).get(id);
    return this.workFor(
      inc,
      topic,
      partition,
      c ? { finished: decodeFinished(c.offset, c.metadata), position: c.offset } : undefined,
    );
  }

  private async commit(
    inc: Incarnation,
    topic: string,
    partition: number,
    records: Encoded[],
    commit: Commit | undefined,
  ): Promise<void> {
    const offset = commit === undefined ? undefined : commit.offset.toString();
    if (this.transactional) {
      await this.senderFor(topic, partition).sendEncoded(
        records,
        offset === undefined
          ? []
          : [{ groupId: this.opts.groupId, topic, partition, offset, metadata: commit?.metadata ?? null }],
      );
    } else if (offset !== undefined) {
      // Nothing is written with it: a commit that fails loses nothing (the next one carries a
      // later offset; a restart reads a little again, and these handlers are idempotent).
      await inc.consumer.commitOffsets([{ topic, partition, offset }]).catch((err: unknown) => {
        this.opts.logger.warn(
          { consumer: this.opts.name, topic, partition, err: (err as Error).message },
          'offset commit failed; the next commit carries it',
        );
      });
    }
    if (this.inc === inc) this.lastActivity = Date.now();
  }

  /**
   * Hands the batch's records out; past the consumer's bound the rest waits in memory in the
   * partition's backlog, the partition paused, and goes out as records finish (`feed`).
   */
  private async eachBatch(inc: Incarnation, payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset } = payload;
    const { topic, partition } = batch;
    if (batch.messages.length === 0) return;
    const entry = await this.workOf(inc, topic, partition);
    if (!payload.isRunning() || payload.isStale() || this.stopped || this.inc !== inc) return;
    const end = (BigInt(batch.lastOffset()) + 1n).toString();
    if (inc.pauses.isHeld(topic, partition)) {
      // Fetched while the partition was being paused: behind what already waits.
      inc.pauses.hold(topic, partition, batch.messages, end);
    } else {
      const n = this.handOut(inc, topic, partition, entry, batch.messages, end);
      if (n < batch.messages.length) inc.pauses.hold(topic, partition, batch.messages.slice(n), end);
    }
    // Every record of the batch is handed out or waits in memory: the next fetch starts after them.
    // (What is committed is the PartitionWork's business; kafkajs commits nothing itself.)
    resolveOffset(batch.messages[batch.messages.length - 1]!.offset);
  }

  /**
   * Hands `messages` out in offset order until the consumer's bound; returns how many it took.
   * Once the last is out, the commit may pass the aborted records and markers after it up to
   * `end` (common after a broker restart, when every sender's registration aborts what it left
   * open): without that the group showed lag on a drained partition until its next real record.
   */
  private handOut(
    inc: Incarnation,
    topic: string,
    partition: number,
    { work, log }: { work: PartitionWork; log: Logger },
    messages: readonly KafkaMessage[],
    end: string | undefined,
  ): number {
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i]!;
      // Handed out before a rejoin (open here or finished): not twice.
      if (work.has(m.offset)) continue;
      if (work.finishedBefore(m.offset)) {
        // The previous owner handled it and committed its outputs with its finished mark.
        work.begin(m.offset);
        work.finish(m.offset, []);
        this.counters?.records.inc({ consumer: this.opts.name, outcome: 'finished-before' });
        continue;
      }
      // Back-pressure: records ready to run (or running) across the consumer, and records of any
      // kind open on this partition (records waiting for their time cost memory only, so they do
      // not count against the first: a retry storm of 60 s waits must not stop the main topic).
      if (this.readyRecords(inc) >= this.maxOpen || work.inFlight >= this.maxOpen) return i;
      // A record not due yet (retry and poll topics) waits in its key's place, not the partition's.
      const due = (this.opts.honourNotBefore ? dueAt(m.headers) : undefined) ?? 0;
      const sleeps = due > Date.now();
      if (sleeps) {
        this.counters?.records.inc({ consumer: this.opts.name, outcome: 'deferred' });
        inc.sleeping++;
      }
      work.begin(m.offset, due);
      const key = m.key ? m.key.toString('latin1') : `\u0000${m.offset}`;
      inc.scheduler
        .run(
          `${topic}/${partition}/${key}`,
          () => {
            if (sleeps) inc.sleeping--;
            return this.handleRecord(inc, work, topic, partition, m, log);
          },
          due,
        )
        .catch((err: unknown) => log.error({ offset: m.offset, err }, 'record handling failed unexpectedly'));
    }
    const last = messages[messages.length - 1];
    if (last && end !== undefined && BigInt(end) > BigInt(last.offset) + 1n) work.advanceTo(end);
    return messages.length;
  }

  /**
   * A record finished: what waits in the backlogs goes out, the longest-waiting partition first; a
   * partition whose backlog is empty is read again.
   */
  private feed(inc: Incarnation): void {
    if (this.stopped || this.inc !== inc || !inc.pauses.holding) return;
    for (const b of inc.pauses.backlogs()) {
      if (this.readyRecords(inc) >= this.maxOpen) return;
      const entry = inc.works.get(`${b.topic}/${b.partition}`);
      if (!entry?.work.live) {
        inc.pauses.forget(b.topic, b.partition);
        continue;
      }
      const n = this.handOut(inc, b.topic, b.partition, entry, b.messages, b.end);
      b.messages.splice(0, n);
      // Still waiting: either the consumer is full (stop here) or only this partition is (a retry
      // topic with many records asleep): the next backlog may go on. Stopping at the first, as a
      // first version did, stalled the main topic behind a retry topic's (the bench's mix).
      if (b.messages.length > 0) continue;
      inc.pauses.release(b.topic, b.partition);
    }
  }

  /** Records open across the consumer's partitions, less those asleep until due. */
  private readyRecords(inc: Incarnation): number {
    let n = 0;
    for (const { work } of inc.works.values()) n += work.inFlight;
    return n - inc.sleeping;
  }

  /** One record in its key's turn; a retryable failure is tried again after a backoff, in place. */
  private async handleRecord(
    inc: Incarnation,
    work: PartitionWork,
    topic: string,
    partition: number,
    m: KafkaMessage,
    log: Logger,
  ): Promise<void> {
    const backoff = this.opts.retryBackoffMs ?? 1000;
    for (let attempt = 1; ; attempt++) {
      // Not started once stopping: left open, it is read again by whoever owns the partition next.
      if (!work.live || this.stopped) return;
      inc.handling.set(m, Date.now());
      const r = await this.processor.process(topic, partition, m, log).finally(() => inc.handling.delete(m));
      if (!work.live) return;
      if (r.kind === 'done') {
        try {
          work.finish(m.offset, r.out);
        } catch (err) {
          log.error({ offset: m.offset, err }, 'record finished out of its partition work');
        }
        if (this.readyRecords(inc) < this.maxOpen) this.feed(inc);
        return;
      }
      this.counters?.records.inc({ consumer: this.opts.name, outcome: 'retry' });
      if (attempt === 1 || attempt % 30 === 0)
        log.warn(
          { offset: m.offset, attempt, errorCode: errorCode(r.err), err: r.err },
          'retryable failure; the record is tried again after a backoff',
        );
      await sleep(backoff);
    }
  }
}

const splitId = (id: string): [string, number] => {
  const at = id.lastIndexOf('/');
  return [id.slice(0, at), Number(id.slice(at + 1))];
};

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
