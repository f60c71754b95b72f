import { loadConfig, runService, topicNames } from '@booking/kit';
import { compensationConfigSchema } from './config.js';
import { createCompensation } from './service.js';

const config = loadConfig(compensationConfigSchema);
await runService(
  createCompensation(config, { topics: topicNames(config.TOPIC_PREFIX) }),
  config.SHUTDOWN_TIMEOUT_MS,
);
