// kafkajs client with its log lines routed into pino, and producers that can never auto-create.
import {
  Kafka,
  logLevel,
  Partitioners,
  type Producer,
  type ProducerConfig,
  type RetryOptions,
} from 'kafkajs';
import { type Connections, connections } from '../connections.js';
import type { Logger } from '../logger.js';
import { registerCodecs } from './codecs.js';

export interface KafkaOptions {
  clientId: string;
  brokers: readonly string[];
  logger: Logger;
  /** kafkajs's retry for every request of this client (its transaction coordinator requests included). */
  retry?: RetryOptions;
  /** TLS and SASL; by default this process's (KAFKA_SECURITY_PROTOCOL …, connections.ts). */
  security?: Connections['kafka'];
}

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

export function createKafka({ clientId, brokers, logger, retry, security }: KafkaOptions): Kafka {
  // gzip, snappy, lz4 and zstd: whatever an upstream producer compresses with is read (issue 31).
  registerCodecs();
  const child = logger.child({ component: 'kafkajs' });
  const { ssl, sasl } = security ?? connections().kafka;
  return new Kafka({
    clientId,
    brokers: [...brokers],
    ...(ssl ? { ssl } : {}),
    ...(sasl ? { sasl } : {}),
    ...(retry ? { retry } : {}),
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log }) => {
        const { message, ...rest } = log;
        child[LEVELS[level] ?? 'info'](rest, message);
      },
  });
}

/**
 * kafkajs's retry for a client whose producers are transactional. A transaction begun while the
 * coordinator still writes the previous one's markers is answered CONCURRENT_TRANSACTIONS; with
 * kafkajs's default (300 ms, doubling) every such answer cost about 300 ms (issue 13: p50 301 ms
 * per sequential transaction, 4/s). The Java client waits 20 ms for it (KAFKA-5477). Here: 20 ms,
 * doubling, never over 50 ms; the sender's own bound (10 s an attempt) still ends a real outage.
 */
export const TRANSACTION_RETRY: RetryOptions = {
  initialRetryTime: 20,
  multiplier: 2,
  maxRetryTime: 50,
  retries: 100,
};

/** An idempotent producer; with `transactionalId`, a transactional one (max one request in flight). */
export function createProducer(kafka: Kafka, config: ProducerConfig = {}): Producer {
  return kafka.producer({
    idempotent: true,
    // murmur2 keyed partitioning, as the Java client: one appointment's records on one partition.
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
    ...(config.transactionalId ? { maxInFlightRequests: 1 } : {}),
    ...config,
  });
}
