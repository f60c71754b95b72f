import { loadServiceConfig, runService } from '@booking/kit';
import { auditConfigSchema } from './config.js';
import { createAudit } from './service.js';

const { config, topics } = loadServiceConfig(auditConfigSchema);
await runService(createAudit(config, { topics }), config.SHUTDOWN_TIMEOUT_MS);
