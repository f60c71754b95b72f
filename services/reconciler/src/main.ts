import { loadConfig, topicNames } from '@booking/kit';
import { reconcilerConfigSchema } from './config.js';
import { createReconciler } from './service.js';

const config = loadConfig(reconcilerConfigSchema);
const service = createReconciler(config, { topics: topicNames(config.TOPIC_PREFIX) });
const url = await service.start();
service.logger.info({ url }, 'reconciler ready');

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
