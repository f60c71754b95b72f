import { loadConfig, runService, topicNames } from '@booking/kit';
import { auditConfigSchema } from './config.js';
import { createAudit } from './service.js';

const config = loadConfig(auditConfigSchema);
await runService(
  createAudit(config, { topics: topicNames(config.TOPIC_PREFIX) }),
  config.SHUTDOWN_TIMEOUT_MS,
);
