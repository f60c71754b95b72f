import { loadServiceConfig, runMain, runService, startTracing } from '@booking/kit';
import { intakeConfigSchema } from './config.js';
import { createIntake } from './service.js';

// A bad configuration or a connection it cannot make ends the start with one clear line (runMain).
await runMain(async () => {
  const { config, topics } = loadServiceConfig(intakeConfigSchema);
  // Spans exported over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set (tracing.ts).
  const stopTracing = await startTracing(config.SERVICE_NAME);
  await runService(createIntake(config, { topics }), config.SHUTDOWN_TIMEOUT_MS, stopTracing);
});
