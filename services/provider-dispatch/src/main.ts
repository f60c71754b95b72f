import { loadServiceConfig, runService } from '@booking/kit';
import { dispatchConfigSchema } from './config.js';
import { createDispatch } from './service.js';

const { config, topics } = loadServiceConfig(dispatchConfigSchema);
await runService(createDispatch(config, { topics }), config.SHUTDOWN_TIMEOUT_MS);
