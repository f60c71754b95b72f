import { loadConfig, runService, topicNames } from '@booking/kit';
import { dispatchConfigSchema } from './config.js';
import { createDispatch } from './service.js';

const config = loadConfig(dispatchConfigSchema);
await runService(
  createDispatch(config, { topics: topicNames(config.TOPIC_PREFIX) }),
  config.SHUTDOWN_TIMEOUT_MS,
);
