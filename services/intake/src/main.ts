import { loadServiceConfig, runMain, runService } from '@booking/kit';
import { intakeConfigSchema } from './config.js';
import { createIntake } from './service.js';

// A bad configuration or a connection it cannot make ends the start with one clear line (runMain).
await runMain(async () => {
  const { config, topics } = loadServiceConfig(intakeConfigSchema);
  await runService(createIntake(config, { topics }), config.SHUTDOWN_TIMEOUT_MS);
});
