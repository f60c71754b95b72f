import { loadServiceConfig, runMain, runService } from '@booking/kit';
import { dispatchConfigSchema } from './config.js';
import { createDispatch } from './service.js';

// A bad configuration or a connection it cannot make ends the start with one clear line (runMain).
await runMain(async () => {
  const { config, topics } = loadServiceConfig(dispatchConfigSchema);
  await runService(createDispatch(config, { topics }), config.SHUTDOWN_TIMEOUT_MS);
});
