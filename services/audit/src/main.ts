import { loadServiceConfig, runMain, runService } from '@booking/kit';
import { auditConfigSchema } from './config.js';
import { createAudit } from './service.js';

// A bad configuration or a connection it cannot make ends the start with one clear line (runMain).
await runMain(async () => {
  const { config, topics } = loadServiceConfig(auditConfigSchema);
  await runService(createAudit(config, { topics }), config.SHUTDOWN_TIMEOUT_MS);
});
