import { loadServiceConfig, runService } from '@booking/kit';
import { intakeConfigSchema } from './config.js';
import { createIntake } from './service.js';

const { config, topics } = loadServiceConfig(intakeConfigSchema);
await runService(createIntake(config, { topics }), config.SHUTDOWN_TIMEOUT_MS);
