// A service as a declaration. `topology.ts` of each service says what it consumes (topic, group,
// schema), what its handler may write, its retry schedule and its dead-letter topic; the service's
// composition root pairs each consumer with its handler and its adapters. `buildService` turns
// the two into consumer runtimes, producers, the ops server, /healthz and the metrics, and starts
// and stops them in order: the same for every service, written once.
import type { SchemaName, SchemaTypes } from '@booking/schemas';
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { ConsumerRuntime, PoisonReason, PoisonSource, RuntimeRecord } from './kafka/consumer-runtime.js';
import { deadLetterEmit } from './kafka/dead-letter.js';
import type { Emit } from './kafka/emit.js';
import { type Outcome, type OutcomeRoutes, resolveOutcome } from './kafka/outcome.js';
import type { RetryPolicy } from './kafka/retry-policy.js';
import type { TransactionalSender } from './kafka/transactional-sender.js';
import type { Logger } from './logger.js';
import { pipelineMetrics } from './metrics.js';
import { buildOpsServer, type HealthChecks } from './ops-server.js';
import type { ServiceContext } from './service-context.js';
import { retryTopicNames } from './topics.js';

/** One consumer of a service, as its topology states it. */
export interface ConsumerTopology<S extends SchemaName = SchemaName> {
  /** Its group, under the service's GROUP_PREFIX (`<prefix>.<group>`). */
  group: string;
  /** The topic it reads (with a retry schedule, that topic's retry topics as well). */
  reads: string;
  /** The contract of what it reads. */
  schema: S;
  /** The handler's name in the service (for the reader and docs/architecture.md). */
  handler: string;
  /** The topics its handler may write to; its retry and dead-letter topics aside. */
  writes: readonly string[];
  /** A 'retry' outcome goes to `<reads>.retry-<delay>` by this schedule; those topics are read here too. */
  retry?: RetryPolicy;
  /**
   * Where a record goes that does not decode, that the handler refuses, or that it dead-letters;
   * null: such a record is only recorded by the consumer's `onPoison` hook (audit), or skipped
   * because another consumer of the same topic records it.
   */
  deadLetters: string | null;
  /** With no dead-letter topic: what becomes of a record it cannot read (for the reader). */
  unreadable?: string;
  /** An alert kind counted for every record dead-lettered here (a person must look). */
  poisonAlert?: string;
  /** Records whose x-not-before lies ahead wait for it (retry topics, polls); default: with a retry schedule. */
  delayed?: boolean;
  /** One line for the reader: what this consumer is for. */
  doc: string;
}

export interface ServiceTopology<C extends Record<string, ConsumerTopology>> {
  service: string;
  consumers: C;
  /** Records written outside a consumer (HTTP accept, a sweep): sender name → the topics it writes. */
  senders?: Record<string, readonly string[]>;
  /** What the service serves beyond /healthz and /metrics, for the reader. */
  http?: string;
}

/** Declares a topology; the identity, for its types. */
export function serviceTopology<C extends Record<string, ConsumerTopology>>(
  t: ServiceTopology<C>,
): ServiceTopology<C> {
  return t;
}

/** Every topic a consumer reads: its topic and, with a retry schedule, the retry topics. */
export function topicsRead(c: ConsumerTopology): string[] {
  return [c.reads, ...(c.retry ? retryTopicNames(c.reads, c.retry.delaysMs) : [])];
}

export type Handler<T> = (record: RuntimeRecord<T>) => Promise<Outcome>;

/** How hard a consumer works: partitions and keys at a time, fetch wait, backoff. */
export interface ConsumerTuning {
  partitions?: number;
  keys?: number;
  maxWaitTimeInMs?: number;
  retryBackoffMs?: number;
}

export interface ServiceParts<C extends Record<string, ConsumerTopology>> {
  /** The service's consumer groups are `<groupPrefix>.<group>`. */
  groupPrefix: string;
  handlers: { [K in keyof C]: Handler<SchemaTypes[C[K]['schema']]> };
  tuning?: { [K in keyof C]?: ConsumerTuning };
  /** Something to do for a poison record beyond the dead letter (audit writes an ALERT line). */
  onPoison?: { [K in keyof C]?: (source: PoisonSource, error: unknown, reason: PoisonReason) => void };
  /** Senders made by `ctx.sender`: started before the consumers, stopped after them. */
  senders?: Record<string, TransactionalSender>;
  /** Dependencies /healthz asks about (true: reachable). */
  probes?: Record<string, () => Promise<boolean>>;
  /** Where /healthz and /metrics listen. */
  listen: { host: string; port: number };
  /** A service with an HTTP API of its own serves them there (intake); default: a bare ops server. */
  http?: (health: () => Promise<HealthChecks>) => FastifyInstance;
  /** Work beside the consumers (the reconciler's sweep): started last, stopped first. */
  background?: { start(): void; stop(): Promise<void> | void }[];
  /** Closed after everything else has stopped (audit's log file). */
  close?: () => Promise<void>;
  shutdownTimeoutMs: number;
}

/** What a service's composition root returns: its ops (or API) server, logger, start and stop. */
export interface ServiceHandle {
  ops: FastifyInstance;
  logger: Logger;
  /** Starts everything; resolves with the URL /healthz is served at. */
  start(): Promise<string>;
  stop(): Promise<void>;
}

/** What main.ts and the tests may give a composition root: topics of their own, a logger. */
export interface ServiceOptions<Topics> {
  topics?: Topics;
  logger?: Logger;
}

export interface BuiltService<C extends Record<string, ConsumerTopology>> extends ServiceHandle {
  consumers: { [K in keyof C]: ConsumerRuntime<SchemaTypes[C[K]['schema']]> };
  health(): Promise<HealthChecks>;
}

export function buildService<C extends Record<string, ConsumerTopology>>(
  ctx: ServiceContext,
  topology: ServiceTopology<C>,
  parts: ServiceParts<C>,
): BuiltService<C> {
  const metrics = pipelineMetrics(ctx.registry);
  const consumers = {} as BuiltService<C>['consumers'];
  for (const [name, c] of Object.entries(topology.consumers) as [keyof C & string, ConsumerTopology][]) {
    consumers[name] = consumerOf(ctx, name, c, parts, metrics);
  }
  const runtimes = Object.values(consumers) as ConsumerRuntime<unknown>[];
  const senders = Object.values(parts.senders ?? {});
  const health = async (): Promise<HealthChecks> => {
    const probes = await Promise.all(
      Object.entries(parts.probes ?? {}).map(async ([k, probe]) => [k, await probe()] as const),
    );
    return {
      ...Object.fromEntries(Object.entries(parts.senders ?? {}).map(([k, s]) => [`${k}Writes`, s.healthy()])),
      ...Object.fromEntries(probes),
      ...Object.fromEntries(runtimes.map((r) => [`${r.name}Consumer`, r.health()])),
    };
  };
  const app = parts.http ? parts.http(health) : buildOpsServer({ registry: ctx.registry, health });
  return {
    ops: app,
    logger: ctx.log,
    consumers,
    health,
    async start() {
      // A service that keeps state in Redis starts only on one that persists it (issue 14).
      if (parts.probes?.redis) await ctx.requireDurableRedis();
      await ctx.requireRegistryAccess();
      for (const s of senders) await s.start();
      await Promise.all(runtimes.map((r) => r.start()));
      for (const b of parts.background ?? []) b.start();
      return app.listen(parts.listen);
    },
    // Stop taking work, finish the batch in hand, flush, close: each step bounded.
    async stop() {
      for (const b of parts.background ?? []) await b.stop();
      await app.close();
      await Promise.all(runtimes.map((r) => r.stop(parts.shutdownTimeoutMs)));
      for (const s of senders) await s.stop();
      await parts.close?.();
      ctx.redis.disconnect();
    },
  };
}

/** Where a consumer's outcomes may go, from its topology (the runtime's, and handler tests'). */
export function routesOf(
  name: string,
  c: ConsumerTopology,
  logger: Logger,
  metrics?: Registry,
  now?: () => number,
): OutcomeRoutes {
  return {
    consumer: name,
    writes: c.writes,
    ...(c.retry ? { retry: { policy: c.retry, sourceTopic: c.reads } } : {}),
    ...(c.deadLetters ? { deadLetterTopic: c.deadLetters } : {}),
    logger,
    ...(metrics ? { metrics } : {}),
    ...(now ? { now } : {}),
  };
}

/**
 * A handler run as the runtime runs it: its decision turned into records by the consumer's declared
 * routes (an undeclared output throws). For handler unit tests.
 */
export function asDeclared<T>(
  name: string,
  c: ConsumerTopology,
  handle: Handler<T>,
  o: { logger: Logger; now?: () => number },
): (record: RuntimeRecord<T>) => Promise<Emit[]> {
  const routes = routesOf(name, c, o.logger, undefined, o.now);
  return async (record) => resolveOutcome(await handle(record), record, routes);
}

function consumerOf<C extends Record<string, ConsumerTopology>>(
  ctx: ServiceContext,
  name: keyof C & string,
  c: ConsumerTopology,
  parts: ServiceParts<C>,
  metrics: ReturnType<typeof pipelineMetrics>,
): ConsumerRuntime<SchemaTypes[C[typeof name]['schema']]> {
  type T = SchemaTypes[C[typeof name]['schema']];
  const handler = parts.handlers[name] as Handler<T>;
  const tuning = parts.tuning?.[name] ?? {};
  const hook = parts.onPoison?.[name];
  const routes = routesOf(name, c, ctx.log, ctx.registry);
  const writesNothing = c.writes.length === 0 && !c.retry && !c.deadLetters;
  return ctx.consumer<T>({
    name,
    groupId: `${parts.groupPrefix}.${c.group}`,
    topics: topicsRead(c),
    schema: c.schema,
    honourNotBefore: c.delayed ?? !!c.retry,
    // A consumer that writes no records (audit) commits its offsets plainly.
    ...(writesNothing ? { transactional: false } : {}),
    ...(tuning.partitions ? { partitionsConsumedConcurrently: tuning.partitions } : {}),
    ...(tuning.keys ? { keyConcurrency: tuning.keys } : {}),
    ...(tuning.maxWaitTimeInMs ? { maxWaitTimeInMs: tuning.maxWaitTimeInMs } : {}),
    ...(tuning.retryBackoffMs ? { retryBackoffMs: tuning.retryBackoffMs } : {}),
    handle: async (record) => resolveOutcome(await handler(record), record, routes),
    onPoison: (source, error, reason) => {
      hook?.(source, error, reason);
      if (c.poisonAlert) metrics.alerts.inc({ kind: c.poisonAlert });
      if (!c.deadLetters) return [];
      metrics.deadLetters.inc({ reason });
      return [deadLetterEmit({ dltTopic: c.deadLetters, source, reason, error })];
    },
  });
}
