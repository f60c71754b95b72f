#!/usr/bin/env node
// `npm run bootstrap`: create the project's topics and register their schemas. Idempotent.
// Reads KAFKA_BROKERS, SCHEMA_REGISTRY_URL (e.g. from `./stack/stack.sh env`); TOPIC_PREFIX and
// SHADOW_MODE=true (the `.shadow` topics of a shadow deployment) choose the names.
import { z } from 'zod';
import { baseConfigShape, loadConfig } from '../config.js';
import { runMain } from '../connections.js';
import { createKafka } from '../kafka/client.js';
import { ensureTopics } from '../kafka/ensure-topics.js';
import { registerSchemas } from '../kafka/register-schemas.js';
import { AvroSerde, createSchemaRegistry } from '../kafka/serde.js';
import { warmUpTransactions } from '../kafka/warm-up.js';
import { createLogger } from '../logger.js';
import { isShadow, SHADOW_TOPIC_SUFFIX } from '../shadow.js';
import { topicNames, topicSpecs } from '../topics.js';

const config = loadConfig(
  z.object({
    KAFKA_BROKERS: baseConfigShape.KAFKA_BROKERS,
    SCHEMA_REGISTRY_URL: baseConfigShape.SCHEMA_REGISTRY_URL,
    RETRY_DELAYS_MS: baseConfigShape.RETRY_DELAYS_MS,
    /** Default: from the cluster's broker count (3 from three brokers up, min ISR 2). */
    TOPIC_REPLICATION_FACTOR: z.coerce.number().int().min(1).optional(),
    LOG_LEVEL: baseConfigShape.LOG_LEVEL,
    TOPIC_PREFIX: baseConfigShape.TOPIC_PREFIX,
  }),
);
const logger = createLogger({ service: 'bootstrap', level: config.LOG_LEVEL, fd: 2 });
const specs = topicSpecs(
  config.RETRY_DELAYS_MS,
  topicNames(config.TOPIC_PREFIX, isShadow() ? SHADOW_TOPIC_SUFFIX : ''),
);
await runMain(async () => {
  const kafka = createKafka({ clientId: 'bootstrap', brokers: config.KAFKA_BROKERS, logger });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const topics = await ensureTopics(admin, specs, {
      ...(config.TOPIC_REPLICATION_FACTOR !== undefined
        ? { replicationFactor: config.TOPIC_REPLICATION_FACTOR }
        : {}),
      logger,
    });
    const subjects = await registerSchemas(
      new AvroSerde(createSchemaRegistry(config.SCHEMA_REGISTRY_URL)),
      specs,
    );
    await warmUpTransactions(kafka);
    process.stdout.write(`${JSON.stringify({ topics, subjects }, null, 2)}\n`);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
});
