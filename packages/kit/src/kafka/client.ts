// kafkajs client with its log lines routed into pino, and producers that can never auto-create.
import { Kafka, logLevel, Partitioners, type Producer, type ProducerConfig } from 'kafkajs';
import type { Logger } from '../logger.js';

export interface KafkaOptions {
  clientId: string;
  brokers: readonly string[];
  logger: Logger;
}

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

export function createKafka({ clientId, brokers, logger }: KafkaOptions): Kafka {
  const child = logger.child({ component: 'kafkajs' });
  return new Kafka({
    clientId,
    brokers: [...brokers],
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log }) => {
        const { message, ...rest } = log;
        child[LEVELS[level] ?? 'info'](rest, message);
      },
  });
}

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
