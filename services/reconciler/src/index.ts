export { type ReconcilerConfig, reconcilerConfigSchema } from './config.js';
export type { ReconcilerTopics } from './handlers/reconcile.js';
export { createReconciler, type ReconcilerService } from './service.js';
export { DEFAULT_TOPICS, reconcilerTopology } from './topology.js';
