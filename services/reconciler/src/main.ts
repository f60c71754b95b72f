import { loadServiceConfig, runMain, runService } from '@booking/kit';
import { reconcilerConfigSchema } from './config.js';
import { createReconciler } from './service.js';

// A bad configuration or a connection it cannot make ends the start with one clear line (runMain).
await runMain(async () => {
  const { config, topics } = loadServiceConfig(reconcilerConfigSchema);
  await runService(createReconciler(config, { topics }), config.SHUTDOWN_TIMEOUT_MS);
});
