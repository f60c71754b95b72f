import { loadServiceConfig, runMain, runService, startTracing } from '@booking/kit';
import { auditConfigSchema } from './config.js';
import { createAudit } from './service.js';

// A bad configuration or a connection it cannot make ends the start with one clear line (runMain).
await runMain(async () => {
  const { config, topics } = loadServiceConfig(auditConfigSchema);
  // Spans exported over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set (tracing.ts).
  const stopTracing = await startTracing(config.SERVICE_NAME);
  await runService(createAudit(config, { topics }), config.SHUTDOWN_TIMEOUT_MS, stopTracing);
});
