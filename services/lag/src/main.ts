import { loadConfig, runMain, runService } from '@booking/kit';
import { lagConfigSchema } from './config.js';
import { createLagService } from './service.js';

// A bad configuration or a connection it cannot make ends the start with one clear line (runMain).
await runMain(async () => {
  const config = loadConfig(lagConfigSchema);
  await runService(createLagService(config), config.SHUTDOWN_TIMEOUT_MS);
});
