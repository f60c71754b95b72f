import { loadConfig, runService } from '@booking/kit';
import { lagConfigSchema } from './config.js';
import { createLagService } from './service.js';

const config = loadConfig(lagConfigSchema);
await runService(createLagService(config), config.SHUTDOWN_TIMEOUT_MS);
