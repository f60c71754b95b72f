// What a command-line tool (chaos, fuzz) needs to reach the stack and the services that
// `./stack/stack.sh up --all` runs, from the variables of `./stack/stack.sh env`: one place, so a
// change of how to connect (TLS, SASL) is made once.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Kafka } from 'kafkajs';
import { stackVariable } from './config.js';
import { createKafka, TRANSACTION_RETRY } from './kafka/client.js';
import { AvroSerde, createSchemaRegistry } from './kafka/serde.js';
import type { Logger } from './logger.js';
import { type TopicKey, topicNames } from './topics.js';

/** The five services as the local stack runs them: name → the port of /healthz and /metrics. */
export const LOCAL_SERVICE_PORTS = {
  intake: 3000,
  'provider-dispatch': 3001,
  audit: 3002,
  compensation: 3003,
  reconciler: 3004,
} as const;

/** Each local service's /healthz. */
export function localHealthUrls(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(LOCAL_SERVICE_PORTS).map(([name, port]) => [name, `http://127.0.0.1:${port}/healthz`]),
  );
}

/** A consumer group of the pipeline's services (not a tool's or a test's). */
export const isPipelineGroup = (group: string): boolean =>
  new RegExp(`^(${Object.keys(LOCAL_SERVICE_PORTS).join('|')})\\.`).test(group);

export interface StackClients {
  kafka: Kafka;
  /** For transactional producers: the short retry CONCURRENT_TRANSACTIONS needs, as the services use. */
  producerKafka: Kafka;
  serde: AvroSerde;
  topics: Record<TopicKey, string>;
}

/** Kafka, the registry's serde and the topic names (TOPIC_PREFIX) of the stack in the environment. */
export function stackClients(clientId: string, logger: Logger): StackClients {
  const brokers = stackVariable('KAFKA_BROKERS')
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  return {
    kafka: createKafka({ clientId, brokers, logger }),
    producerKafka: createKafka({ clientId, brokers, logger, retry: TRANSACTION_RETRY }),
    serde: new AvroSerde(createSchemaRegistry(stackVariable('SCHEMA_REGISTRY_URL'))),
    topics: topicNames(process.env.TOPIC_PREFIX ?? ''),
  };
}

/** A result file: pretty JSON, its folder made first. */
export function writeJson(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}
