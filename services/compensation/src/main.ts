import { loadServiceConfig, runMain, runService } from '@booking/kit';
import { compensationConfigSchema } from './config.js';
import { createCompensation } from './service.js';

// A bad configuration or a connection it cannot make ends the start with one clear line (runMain).
await runMain(async () => {
  const { config, topics } = loadServiceConfig(compensationConfigSchema);
  await runService(createCompensation(config, { topics }), config.SHUTDOWN_TIMEOUT_MS);
});
