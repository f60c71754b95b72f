import { loadConfig, runService, topicNames } from '@booking/kit';
import { reconcilerConfigSchema } from './config.js';
import { createReconciler } from './service.js';

const config = loadConfig(reconcilerConfigSchema);
await runService(
  createReconciler(config, { topics: topicNames(config.TOPIC_PREFIX) }),
  config.SHUTDOWN_TIMEOUT_MS,
);
