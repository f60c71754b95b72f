import { loadServiceConfig, runService } from '@booking/kit';
import { reconcilerConfigSchema } from './config.js';
import { createReconciler } from './service.js';

const { config, topics } = loadServiceConfig(reconcilerConfigSchema);
await runService(createReconciler(config, { topics }), config.SHUTDOWN_TIMEOUT_MS);
