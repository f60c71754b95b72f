// What every service's composition root starts with: its logger, metrics registry, Kafka client and
// producer, Avro serde, Redis, and the probes its /healthz reports.
import { Redis } from 'ioredis';
import type { Kafka, Producer } from 'kafkajs';
import type { Registry } from 'prom-client';
import type { BaseConfig } from './config.js';
import { createKafka, createProducer } from './kafka/client.js';
import { AvroSerde, createSchemaRegistry } from './kafka/serde.js';
import { createLogger, type Logger } from './logger.js';
import { createMetricsRegistry } from './metrics.js';

export interface ServiceContext {
  log: Logger;
  registry: Registry;
  kafka: Kafka;
  producer: Producer;
  serde: AvroSerde;
  redis: Redis;
  /** True while the producer is connected. */
  kafkaUp(): boolean;
  redisUp(): Promise<boolean>;
  registryUp(): Promise<boolean>;
}

export function createServiceContext(config: BaseConfig, logger?: Logger): ServiceContext {
  const log = logger ?? createLogger({ service: config.SERVICE_NAME, level: config.LOG_LEVEL });
  const kafka = createKafka({ clientId: config.SERVICE_NAME, brokers: config.KAFKA_BROKERS, logger: log });
  const producer = createProducer(kafka);
  let connected = false;
  producer.on(producer.events.CONNECT, () => {
    connected = true;
  });
  producer.on(producer.events.DISCONNECT, () => {
    connected = false;
  });
  // Lazy: a service that never uses Redis (compensation) never connects.
  const redis = new Redis(config.REDIS_URL, {
    maxRetriesPerRequest: 2,
    lazyConnect: true,
    // Commands issued in the same tick go out in one write: far fewer syscalls per record.
    enableAutoPipelining: true,
  });
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis error'));
  return {
    log,
    registry: createMetricsRegistry(config.SERVICE_NAME),
    kafka,
    producer,
    serde: new AvroSerde(createSchemaRegistry(config.SCHEMA_REGISTRY_URL)),
    redis,
    kafkaUp: () => connected,
    redisUp: () =>
      redis
        .ping()
        .then((r) => r === 'PONG')
        .catch(() => false),
    registryUp: () =>
      fetch(`${config.SCHEMA_REGISTRY_URL}/subjects`, { signal: AbortSignal.timeout(2000) })
        .then((r) => r.ok)
        .catch(() => false),
  };
}
