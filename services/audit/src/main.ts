import { loadConfig, topicNames } from '@booking/kit';
import { auditConfigSchema } from './config.js';
import { createAudit } from './service.js';

const config = loadConfig(auditConfigSchema);
const service = createAudit(config, { topics: topicNames(config.TOPIC_PREFIX) });
const url = await service.start();
service.logger.info({ url }, 'audit ready');

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  service.logger.info({ signal }, 'shutting down');
  setTimeout(() => process.exit(1), config.SHUTDOWN_TIMEOUT_MS + 2000).unref();
  await service.stop();
  process.exit(0);
};
process.once('SIGTERM', () => void stop('SIGTERM'));
process.once('SIGINT', () => void stop('SIGINT'));
