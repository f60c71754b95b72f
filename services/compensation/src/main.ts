import { loadServiceConfig, runService } from '@booking/kit';
import { compensationConfigSchema } from './config.js';
import { createCompensation } from './service.js';

const { config, topics } = loadServiceConfig(compensationConfigSchema);
await runService(createCompensation(config, { topics }), config.SHUTDOWN_TIMEOUT_MS);
