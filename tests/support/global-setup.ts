// Finds or starts the real stack, then creates the project's topics and registers its schemas.
// Order (issue 2): variables already set -> use them; else a Docker engine answers ->
// testcontainers; else -> ./stack/stack.sh up (Kafka, registry and Redis as local processes).
import { execFile, execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  AvroSerde,
  createKafka,
  createLogger,
  createSchemaRegistry,
  ensureTopics,
  registerSchemas,
  topicSpecs,
  warmUpTransactions,
} from '@booking/kit';
import type { Admin } from 'kafkajs';
import type { TestProject } from 'vitest/node';
import type { StackEnv } from './stack-env.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const run = promisify(execFile);

declare module 'vitest' {
  export interface ProvidedContext {
    stack: StackEnv;
  }
}

function fromEnvironment(): StackEnv | null {
  const { KAFKA_BROKERS, SCHEMA_REGISTRY_URL, REDIS_URL } = process.env;
  if (!KAFKA_BROKERS && !SCHEMA_REGISTRY_URL && !REDIS_URL) return null;
  const missing = Object.entries({ KAFKA_BROKERS, SCHEMA_REGISTRY_URL, REDIS_URL })
    .filter(([, v]) => !v)
    .map(([k]) => k);
  if (missing.length)
    throw new Error(`an existing cluster needs all three variables; missing: ${missing.join(', ')}`);
  return {
    kafkaBrokers: KAFKA_BROKERS!,
    schemaRegistryUrl: SCHEMA_REGISTRY_URL!,
    redisUrl: REDIS_URL!,
    origin: 'environment',
  };
}

function dockerAnswers(): boolean {
  try {
    execFileSync('docker', ['info'], { stdio: 'ignore', timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

let stopContainers: (() => Promise<void>) | undefined;
let stackInUse: StackEnv | undefined;
let topicsBefore = new Set<string>();

async function fromTestcontainers(): Promise<StackEnv> {
  const { GenericContainer, Network, Wait } = await import('testcontainers');
  const network = await new Network().start();
  // Images, ports and the broker's settings from stack/manifest.json, as stack.sh and compose use them.
  const { manifest: m, kafkaContainerEnv } = await import('../../stack/manifest.mjs');
  const kafka = await new GenericContainer(process.env.KAFKA_IMAGE ?? m.kafka.image)
    .withNetwork(network)
    .withNetworkAliases('kafka')
    .withExposedPorts({ container: m.kafka.port, host: m.kafka.port })
    .withEnvironment(kafkaContainerEnv())
    .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
    .start();
  const registry = await new GenericContainer(process.env.REGISTRY_IMAGE ?? m.registry.image)
    .withNetwork(network)
    .withEnvironment({
      APICURIO_STORAGE_KIND: 'kafkasql',
      APICURIO_KAFKASQL_BOOTSTRAP_SERVERS: `kafka:${m.kafka.internalPort}`,
    })
    .withExposedPorts(m.registry.containerPort)
    .withWaitStrategy(Wait.forHttp(`${m.registry.path}/subjects`, m.registry.containerPort))
    .start();
  const redis = await new GenericContainer(process.env.REDIS_IMAGE ?? m.redis.image)
    .withCommand(['redis-server', ...m.redis.args])
    .withExposedPorts(m.redis.containerPort)
    .start();
  stopContainers = async () => {
    await Promise.all([redis.stop(), registry.stop()]);
    await kafka.stop();
    await network.stop();
  };
  return {
    kafkaBrokers: `127.0.0.1:${m.kafka.port}`,
    schemaRegistryUrl: `http://${registry.getHost()}:${registry.getMappedPort(m.registry.containerPort)}${m.registry.path}`,
    redisUrl: `redis://${redis.getHost()}:${redis.getMappedPort(m.redis.containerPort)}`,
    origin: 'testcontainers',
  };
}

async function fromStackScript(): Promise<StackEnv> {
  const script = join(ROOT, 'stack', 'stack.sh');
  await run(script, ['up'], { cwd: ROOT, timeout: 600_000 });
  const { stdout } = await run(script, ['env'], { cwd: ROOT });
  const env = Object.fromEntries(
    stdout
      .split('\n')
      .map((l) => l.replace(/^export /, ''))
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  return {
    kafkaBrokers: env.KAFKA_BROKERS!,
    schemaRegistryUrl: env.SCHEMA_REGISTRY_URL!,
    redisUrl: env.REDIS_URL!,
    origin: 'stack.sh',
  };
}

export async function setup(project: TestProject): Promise<void> {
  const stack = fromEnvironment() ?? (dockerAnswers() ? await fromTestcontainers() : await fromStackScript());
  const specs = topicSpecs();
  topicsBefore = await withAdmin(stack, async (admin) => {
    await ensureTopics(admin, specs);
    return new Set(await admin.listTopics());
  });
  await warmUpTransactions(
    createKafka({
      clientId: 'tests-warm-up',
      brokers: stack.kafkaBrokers.split(','),
      logger: createLogger({ service: 'tests', level: 'warn', fd: 2 }),
    }),
  );
  await registerSchemas(new AvroSerde(createSchemaRegistry(stack.schemaRegistryUrl)), specs);
  process.stderr.write(
    `[tests] stack from ${stack.origin}: ${stack.kafkaBrokers} ${stack.schemaRegistryUrl} ${stack.redisUrl}\n`,
  );
  stackInUse = stack;
  project.provide('stack', stack);
}

async function withAdmin<T>(stack: StackEnv, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const logger = createLogger({ service: 'tests', level: 'warn', fd: 2 });
  const admin = createKafka({
    clientId: 'tests-setup',
    brokers: stack.kafkaBrokers.split(','),
    logger,
  }).admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Deletes the per-test topics (`it.*`) this run created, so repeated runs do not pile them up. */
async function deleteTestTopics(stack: StackEnv): Promise<void> {
  await withAdmin(stack, async (admin) => {
    const ours = (await admin.listTopics()).filter((t) => t.startsWith('it.') && !topicsBefore.has(t));
    if (ours.length > 0) await admin.deleteTopics({ topics: ours, timeout: 30_000 });
  });
}

export async function teardown(): Promise<void> {
  // A stack started by stack.sh stays up for the next run; containers are ours to remove.
  if (stackInUse && !stopContainers) await deleteTestTopics(stackInUse);
  await stopContainers?.();
}
