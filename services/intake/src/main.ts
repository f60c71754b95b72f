import { loadConfig, runService, topicNames } from '@booking/kit';
import { intakeConfigSchema } from './config.js';
import { createIntake } from './service.js';

const config = loadConfig(intakeConfigSchema);
await runService(
  createIntake(config, { topics: topicNames(config.TOPIC_PREFIX) }),
  config.SHUTDOWN_TIMEOUT_MS,
);
