export { type AttemptStart, redisAttemptGuard } from './adapters/ports.js';
export { type DispatchConfig, dispatchConfigSchema } from './config.js';
export type { DispatchTopics } from './handlers/dispatch.js';
export { createDispatch, type DispatchService } from './service.js';
export { DEFAULT_TOPICS, dispatchTopology } from './topology.js';
