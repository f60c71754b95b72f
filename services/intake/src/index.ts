export { type IntakeConfig, intakeConfigSchema } from './config.js';
export { accept, bodyHash } from './handlers/accept.js';
export { buildHttpApp, type HttpDeps, httpScope, keepClaimWhile } from './http.js';
export { intakeMetrics } from './metrics.js';
export { createIntake, type IntakeService } from './service.js';
export { DEFAULT_TOPICS, type IntakeTopics, intakeTopology } from './topology.js';
