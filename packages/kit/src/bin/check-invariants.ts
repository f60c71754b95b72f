#!/usr/bin/env node
// `npm run check:invariants [-- --out FILE] [--acks FILE] [--claims]`: checks the pipeline's
// invariants against the provider and prints the report as JSON. Exit 0 when every invariant holds,
// 1 when one does not, 2 when the check itself could not run.
//   --acks FILE  appointment ids clients were answered 202 for (a JSON array, or JSON lines with an
//                appointmentId): each must exist on the requested and lifecycle topics (issue 20);
//   --claims     the same for every id intake's idempotency claims record as accepted.
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { acknowledgedFromClaims, acknowledgedFromFile } from '../acceptances.js';
import { baseConfigShape, loadConfig, PROJECTION_PREFIX } from '../config.js';
import { redisConnectionOptions } from '../connections.js';
import { invariantCheckFromSettings } from '../invariants.js';
import { createKafka } from '../kafka/client.js';
import { AvroSerde, createSchemaRegistry } from '../kafka/serde.js';
import { createLogger } from '../logger.js';
import { topicNames } from '../topics.js';

const { values } = parseArgs({
  options: { out: { type: 'string' }, acks: { type: 'string' }, claims: { type: 'boolean', default: false } },
});
const config = loadConfig(
  z.object({
    REDIS_URL: baseConfigShape.REDIS_URL,
    PROVIDER_URL: z.url(),
    PROVIDER_TOKEN: z.string().min(8),
    PROJECTION_PREFIX,
    AUDIT_LOG_PATH: z.string().default('logs/audit.jsonl'),
    /** Optional: a ledger of every booking (the mock's /__mock/ledger) to find unknown bookings too. */
    PROVIDER_LEDGER_URL: z.url().optional(),
    /** Read only with --acks or --claims (the topics are where acknowledged acceptances must be). */
    KAFKA_BROKERS: baseConfigShape.KAFKA_BROKERS.optional(),
    SCHEMA_REGISTRY_URL: z.url().optional(),
    TOPIC_PREFIX: baseConfigShape.TOPIC_PREFIX,
  }),
);
const redis = new Redis(config.REDIS_URL, { ...redisConnectionOptions(), maxRetriesPerRequest: 2 });
try {
  let acceptances: Parameters<typeof invariantCheckFromSettings>[3];
  if (values.acks || values.claims) {
    if (!config.KAFKA_BROKERS || !config.SCHEMA_REGISTRY_URL)
      throw new Error('--acks and --claims need KAFKA_BROKERS and SCHEMA_REGISTRY_URL');
    const acknowledged = [
      ...(values.acks ? acknowledgedFromFile(values.acks) : []),
      ...(values.claims ? await acknowledgedFromClaims(redis) : []),
    ];
    const topics = topicNames(config.TOPIC_PREFIX);
    acceptances = {
      acknowledged,
      kafka: createKafka({
        clientId: 'check-invariants',
        brokers: config.KAFKA_BROKERS,
        logger: createLogger({ service: 'check-invariants', level: 'error', fd: 2 }),
      }),
      serde: new AvroSerde(createSchemaRegistry(config.SCHEMA_REGISTRY_URL)),
      requestedTopic: topics.requested,
      lifecycleTopic: topics.lifecycle,
    };
  }
  const report = await invariantCheckFromSettings(redis, config, values.out, acceptances);
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  process.exitCode = report.passed ? 0 : 1;
} catch (err) {
  process.stderr.write(`check:invariants could not run: ${(err as Error).message}\n`);
  process.exitCode = 2;
} finally {
  redis.disconnect();
}
