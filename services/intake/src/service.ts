// Composition root of intake, used by main.ts and by the tests (which pass their own topics).
import { createServiceContext, deadLetterEmit, type Logger } from '@booking/kit';
import type { InboundRequest } from '@booking/schemas';
import type { FastifyInstance } from 'fastify';
import type { IntakeConfig } from './config.js';
import { inboundHandler } from './handlers/inbound.js';
import { buildHttpApp } from './http.js';
import { intakeMetrics } from './metrics.js';
import { DEFAULT_TOPICS, groups, type IntakeTopics } from './topology.js';

export interface IntakeService {
  app: FastifyInstance;
  logger: Logger;
  start(): Promise<string>;
  stop(): Promise<void>;
}

export function createIntake(
  config: IntakeConfig,
  { topics = DEFAULT_TOPICS, logger }: { topics?: IntakeTopics; logger?: Logger } = {},
): IntakeService {
  const ctx = createServiceContext(config, logger);
  const { log, registry, serde, redis } = ctx;
  const sender = ctx.sender('http');
  const metrics = intakeMetrics(registry);
  const group = groups(config.GROUP_PREFIX);

  const inbound = ctx.consumer<InboundRequest>({
    name: 'inbound',
    groupId: group.inbound,
    topics: [topics.inbound],
    schema: 'InboundRequest',
    partitionsConsumedConcurrently: config.PARTITIONS_CONCURRENCY,
    keyConcurrency: config.KEY_CONCURRENCY,
    handle: inboundHandler({
      redis,
      topics,
      dltTopic: topics.dlt,
      idempotencyTtlMs: config.IDEMPOTENCY_TTL_MS,
      horizonMs: config.BOOKING_HORIZON_DAYS * 86_400_000,
      logger: log,
      metrics,
    }),
    onPoison: (source, error, reason) => {
      metrics.deadLetters.inc({ reason });
      return [deadLetterEmit({ dltTopic: topics.dlt, source, reason, error })];
    },
  });
  const health = async () => ({
    kafkaWrites: sender.healthy(),
    schemaRegistry: await ctx.registryUp(),
    redis: await ctx.redisUp(),
    inboundConsumer: inbound.health(),
  });

  const app = buildHttpApp({
    redis,
    sender,
    serde,
    topics,
    apiKeys: config.apiKeys,
    idempotencyTtlMs: config.IDEMPOTENCY_TTL_MS,
    projectionPrefix: config.PROJECTION_PREFIX,
    acceptingTtlMs: config.ACCEPTING_TTL_MS,
    acceptTimeoutMs: config.ACCEPT_TIMEOUT_MS,
    bodyLimitBytes: config.BODY_LIMIT_BYTES,
    horizonMs: config.BOOKING_HORIZON_DAYS * 86_400_000,
    rateLimitPerMinute: config.RATE_LIMIT_PER_MINUTE,
    logger: log,
    registry,
    metrics,
    health,
  });

  return {
    app,
    logger: log,
    async start() {
      await sender.start();
      await inbound.start();
      return app.listen({ host: config.INTAKE_HTTP_HOST, port: config.INTAKE_HTTP_PORT });
    },
    // Stop taking requests, finish the batch in hand, flush, close; each step bounded.
    async stop() {
      const bound = config.SHUTDOWN_TIMEOUT_MS;
      await app.close();
      await inbound.stop(bound);
      await sender.stop();
      redis.disconnect();
    },
  };
}
