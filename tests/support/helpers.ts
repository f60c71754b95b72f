// Test helpers: unique names per test, clients on the real stack, and bounded condition waits.
import { randomUUID } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import {
  AvroSerde,
  createKafka,
  createLogger,
  createSchemaRegistry,
  ensureTopics,
  type Logger,
  type TopicSpec,
} from '@booking/kit';
import type { SchemaName } from '@booking/schemas';
import { Redis } from 'ioredis';
import type { Admin, Kafka } from 'kafkajs';
import { afterEach, inject } from 'vitest';

export const stack = () => inject('stack');

export const logger: Logger = createLogger({ service: 'tests', level: 'warn', fd: 2 });

/** A name no other test (or earlier run) uses: every test gets its own topics and groups. */
export function unique(prefix: string): string {
  return `it.${prefix}.${randomUUID().slice(0, 8)}`;
}

export function kafkaClient(clientId = unique('client')): Kafka {
  return createKafka({ clientId, brokers: stack().kafkaBrokers.split(','), logger });
}

/**
 * Debian's kcat (librdkafka): a producer that is not ours, for records as an upstream team writes
 * them (compressed batches). run_tests.sh installs it; a test that needs it fails saying so.
 */
export function kcatPath(): string {
  const bin = process.env.KCAT_PATH ?? '/usr/bin/kcat';
  try {
    accessSync(bin, constants.X_OK);
  } catch {
    throw new Error(
      `kcat is needed at ${bin} (apt-get install kcat, or set KCAT_PATH); run_tests.sh installs it`,
    );
  }
  return bin;
}

export function serde(): AvroSerde {
  return new AvroSerde(createSchemaRegistry(stack().schemaRegistryUrl));
}

export function redisClient(url = stack().redisUrl): Redis {
  const client = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 2 });
  client.on('error', () => undefined); // outages are the point of some tests; commands still reject
  return client;
}

/** True when the Redis at `url` answers PING (a test's own redis-server coming up). */
export async function redisAnswers(url: string): Promise<boolean> {
  const c = redisClient(url);
  try {
    return (await c.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    c.disconnect();
  }
}

export async function createTestTopic(kafka: Kafka, schema: SchemaName, partitions = 3): Promise<TopicSpec> {
  const spec: TopicSpec = {
    name: unique('topic'),
    partitions,
    retentionMs: 3_600_000,
    cleanupPolicy: 'delete',
    schema,
  };
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, [spec]);
  } finally {
    await admin.disconnect();
  }
  return spec;
}

/**
 * A bare topic (no schema, the broker's defaults) for transport tests, there once every partition
 * has a leader. kafkajs's `createTopics({ waitForLeaders })` gives up when the broker answers that it
 * does not host the new topic yet (UNKNOWN_TOPIC_OR_PARTITION, retriable), which failed a clean-clone
 * run; this asks again until the metadata shows every leader.
 */
export async function createBareTopic(admin: Admin, topic: string, numPartitions: number): Promise<void> {
  await waitFor(
    `topic ${topic} with a leader on every partition`,
    async () => {
      await admin.createTopics({ topics: [{ topic, numPartitions }] }); // false once it exists
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
      const partitions = topics[0]?.partitions ?? [];
      return partitions.length === numPartitions && partitions.every((p) => p.leader >= 0);
    },
    30_000,
  );
}

/**
 * Resolves with `check()`'s value once it is truthy; rejects with `what` when `boundMs` passes.
 * A bound on a condition, not a sleep: the test goes on as soon as the condition holds.
 */
export async function waitFor<T>(
  what: string,
  check: () => T | Promise<T>,
  boundMs = 20_000,
): Promise<Exclude<T, null | undefined | false | 0 | ''>> {
  const deadline = Date.now() + boundMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as Exclude<T, null | undefined | false | 0 | ''>;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${boundMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A ProviderPoll value: the smallest valid record for tests that only need some record on a topic. */
export const providerPoll = (appointmentId: string) => ({
  appointmentId,
  bookingId: 'b',
  calendarId: 'c',
  deadline: null,
  polls: 1,
  firstSeenAt: 1,
  correlationId: 'x',
});

/** Clean-ups run after each test of the calling file, in order, errors ignored. Call at top level. */
export function cleanupAfterEach(): (() => Promise<unknown>)[] {
  const list: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const s of list.splice(0)) await s().catch(() => undefined);
  });
  return list;
}
