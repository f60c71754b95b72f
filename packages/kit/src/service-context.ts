// What every service's composition root starts with: its logger, metrics registry, Kafka client,
// Avro serde, Redis, senders for records it writes outside a consumer, and the probes its /healthz
// reports.

import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import type { Registry } from 'prom-client';
import type { BaseConfig } from './config.js';
import { redisConnectionOptions, registryHeaders } from './connections.js';
import { ConfigError } from './errors.js';
import { createKafka, TRANSACTION_RETRY } from './kafka/client.js';
import { ConsumerRuntime, type ConsumerRuntimeOptions } from './kafka/consumer-runtime.js';
import { AvroSerde, createSchemaRegistry } from './kafka/serde.js';
import { TransactionalSender } from './kafka/transactional-sender.js';
import { createLogger, type Logger } from './logger.js';
import { createMetricsRegistry } from './metrics.js';
import { requireDurableRedis } from './redis-persistence.js';

export interface ServiceContext {
  log: Logger;
  registry: Registry;
  kafka: Kafka;
  serde: AvroSerde;
  redis: Redis;
  /**
   * A sender for records written outside a consumer (HTTP accept, the sweep): every write a
   * committed transaction, a producer in doubt replaced before it sends again (issue 20).
   */
  sender(name: string): TransactionalSender;
  /**
   * A consumer of this service: what it reads, its group, its schema and its handler; the context
   * adds what every consumer shares (Kafka, serde, logger, metrics, the stuck bound).
   */
  consumer<T>(declaration: ConsumerDeclaration<T>): ConsumerRuntime<T>;
  redisUp(): Promise<boolean>;
  registryUp(): Promise<boolean>;
  /** Rejects (ConfigError) when Redis keeps no append-only file and the config does not allow that. */
  requireDurableRedis(): Promise<void>;
  /** Throws a ConfigError when the registry refuses this service's credentials (401/403). */
  requireRegistryAccess(): Promise<void>;
}

/** What a service says about one of its consumers; the rest comes from the service context. */
export type ConsumerDeclaration<T> = Omit<
  ConsumerRuntimeOptions<T>,
  'kafka' | 'producerKafka' | 'serde' | 'logger' | 'metrics' | 'stuckAfterMs'
>;

export function createServiceContext(config: BaseConfig, logger?: Logger): ServiceContext {
  const log = logger ?? createLogger({ service: config.SERVICE_NAME, level: config.LOG_LEVEL });
  const kafka = createKafka({ clientId: config.SERVICE_NAME, brokers: config.KAFKA_BROKERS, logger: log });
  // Producers (every one transactional) on a client of their own, with the short retry that
  // CONCURRENT_TRANSACTIONS needs; consumers and admin keep kafkajs's default back-off.
  const producerKafka = createKafka({
    clientId: config.SERVICE_NAME,
    brokers: config.KAFKA_BROKERS,
    logger: log,
    retry: TRANSACTION_RETRY,
  });
  // Lazy: a service that never uses Redis (compensation) never connects.
  const redis = new Redis(config.REDIS_URL, {
    ...redisConnectionOptions(),
    maxRetriesPerRequest: 2,
    lazyConnect: true,
    // Commands issued in the same tick go out in one write: far fewer syscalls per record.
    enableAutoPipelining: true,
  });
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis error'));
  const registry = createMetricsRegistry(config.SERVICE_NAME);
  const serde = new AvroSerde(createSchemaRegistry(config.SCHEMA_REGISTRY_URL));
  const instance = randomUUID();
  return {
    log,
    registry,
    kafka,
    serde,
    redis,
    sender: (name) =>
      new TransactionalSender({
        kafka: producerKafka,
        transactionalId: `${config.SERVICE_NAME}.${name}.${instance}`,
        serde,
        logger: log,
        name,
        metrics: registry,
        // The id carries this instance's uuid: only this sender's own retired producer can fence it.
        exclusiveId: true,
      }),
    consumer: (declaration) =>
      new ConsumerRuntime({
        ...declaration,
        kafka,
        producerKafka,
        serde,
        logger: log,
        metrics: registry,
        stuckAfterMs: config.CONSUMER_STUCK_AFTER_MS,
      }),
    redisUp: () =>
      redis
        .ping()
        .then((r) => r === 'PONG')
        .catch(() => false),
    requireDurableRedis: () => requireDurableRedis(redis, config.REDIS_ALLOW_NO_PERSISTENCE),
    async requireRegistryAccess() {
      // Unreachable is for /healthz to report (the registry may come up later); refused is final.
      const res = await fetch(`${config.SCHEMA_REGISTRY_URL}/subjects`, {
        headers: registryHeaders(),
        signal: AbortSignal.timeout(5000),
      }).catch(() => undefined);
      if (res?.status === 401 || res?.status === 403)
        throw new ConfigError([
          `SCHEMA_REGISTRY_URL: the registry refused the credentials (${res.status}): check SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD (or SCHEMA_REGISTRY_TOKEN)`,
        ]);
    },
    registryUp: () =>
      fetch(`${config.SCHEMA_REGISTRY_URL}/subjects`, {
        headers: registryHeaders(),
        signal: AbortSignal.timeout(2000),
      })
        .then((r) => r.ok)
        .catch(() => false),
  };
}
