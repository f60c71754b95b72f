export { type CompensationConfig, compensationConfigSchema } from './config.js';
export type { CompensationTopics } from './handlers/compensate.js';
export { type CompensationService, createCompensation } from './service.js';
export { compensationTopology, DEFAULT_TOPICS } from './topology.js';
