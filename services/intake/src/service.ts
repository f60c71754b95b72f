// Composition root of intake, used by main.ts and by the tests (which pass their own topics).
import {
  AvroSerde,
  ConsumerRuntime,
  createKafka,
  createLogger,
  createMetricsRegistry,
  createProducer,
  createSchemaRegistry,
  deadLetterEmit,
  type Logger,
} from '@booking/kit';
import type { InboundRequest } from '@booking/schemas';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
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
  const log = logger ?? createLogger({ service: config.SERVICE_NAME, level: config.LOG_LEVEL });
  const registry = createMetricsRegistry(config.SERVICE_NAME);
  const metrics = intakeMetrics(registry);
  const kafka = createKafka({ clientId: config.SERVICE_NAME, brokers: config.KAFKA_BROKERS, logger: log });
  const producer = createProducer(kafka);
  const serde = new AvroSerde(createSchemaRegistry(config.SCHEMA_REGISTRY_URL));
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 2, enableOfflineQueue: true });
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis error'));
  const group = groups(config.GROUP_PREFIX);
  let kafkaUp = false;
  producer.on(producer.events.CONNECT, () => {
    kafkaUp = true;
  });
  producer.on(producer.events.DISCONNECT, () => {
    kafkaUp = false;
  });

  const inbound = new ConsumerRuntime<InboundRequest>({
    name: 'inbound',
    kafka,
    groupId: group.inbound,
    topics: [topics.inbound],
    serde,
    producer,
    logger: log,
    metrics: registry,
    transactional: true,
    handle: inboundHandler({
      redis,
      topics,
      dltTopic: topics.dlt,
      idempotencyTtlMs: config.IDEMPOTENCY_TTL_MS,
      logger: log,
      metrics,
    }),
    onPoison: (source, error, reason) => {
      metrics.deadLetters.inc({ reason });
      return [deadLetterEmit({ dltTopic: topics.dlt, source, reason, error })];
    },
  });
  const health = async () => {
    const registryUp = await fetch(`${config.SCHEMA_REGISTRY_URL}/subjects`, {
      signal: AbortSignal.timeout(2000),
    })
      .then((r) => r.ok)
      .catch(() => false);
    const redisUp = await redis
      .ping()
      .then((r) => r === 'PONG')
      .catch(() => false);
    return {
      kafka: kafkaUp,
      schemaRegistry: registryUp,
      redis: redisUp,
      inboundConsumer: inbound.ready,
    };
  };

  const app = buildHttpApp({
    redis,
    producer,
    serde,
    topics,
    apiKeys: config.apiKeys,
    idempotencyTtlMs: config.IDEMPOTENCY_TTL_MS,
    projectionPrefix: config.PROJECTION_PREFIX,
    acceptingTtlMs: config.ACCEPTING_TTL_MS,
    bodyLimitBytes: config.BODY_LIMIT_BYTES,
    logger: log,
    registry,
    metrics,
    health,
  });

  return {
    app,
    logger: log,
    async start() {
      await producer.connect();
      await inbound.start();
      return app.listen({ host: config.INTAKE_HTTP_HOST, port: config.INTAKE_HTTP_PORT });
    },
    // Stop taking requests, finish the batch in hand, flush, close; each step bounded.
    async stop() {
      const bound = config.SHUTDOWN_TIMEOUT_MS;
      await app.close();
      await inbound.stop(bound);
      await producer.disconnect();
      redis.disconnect();
    },
  };
}
