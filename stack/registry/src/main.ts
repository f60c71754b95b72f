// Starts the local-only registry: replay the journal topic, then serve.
import { readFileSync } from 'node:fs';
import { Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { buildApp } from './app.js';
import { KafkaJournal, RegistryState } from './store.js';

const logger = pino({ base: { service: 'local-registry' } });
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const port = Number(process.env.REGISTRY_PORT ?? 8081);
const host = process.env.REGISTRY_HOST ?? '127.0.0.1';
const topic = process.env.REGISTRY_TOPIC ?? '_schemas';
const SHUTDOWN_BOUND_MS = 10_000;

const kafka = new Kafka({ clientId: 'local-registry', brokers, logLevel: logLevel.WARN });
const admin = kafka.admin();
const journal = new KafkaJournal(kafka, topic);
const state = new RegistryState();

await admin.connect();
await journal.ensureTopic(admin);
const applied = await journal.load(admin, state);
await admin.disconnect();
logger.info({ topic, applied, subjects: state.subjects.size }, 'journal replayed');

// REGISTRY_BASIC_AUTH_USERNAME + REGISTRY_BASIC_AUTH_PASSWORD_FILE: a registry behind basic auth
// (./stack/stack.sh up --secure), as secured registries are.
const authUser = process.env.REGISTRY_BASIC_AUTH_USERNAME;
const authFile = process.env.REGISTRY_BASIC_AUTH_PASSWORD_FILE;
const basicAuth =
  authUser && authFile ? { username: authUser, password: readFileSync(authFile, 'utf8').trim() } : undefined;
const app = buildApp({ state, journal, logger: { level: 'warn' }, ...(basicAuth ? { basicAuth } : {}) });
await app.listen({ host, port });
logger.warn(
  { host, port },
  'LOCAL-ONLY schema registry serving (Confluent-compatible subset); use a real registry elsewhere',
);

const stop = async (signal: string) => {
  logger.info({ signal }, 'stopping');
  const timer = setTimeout(() => process.exit(1), SHUTDOWN_BOUND_MS);
  timer.unref();
  await app.close();
  await journal.close();
  process.exit(0);
};
process.once('SIGTERM', () => void stop('SIGTERM'));
process.once('SIGINT', () => void stop('SIGINT'));
