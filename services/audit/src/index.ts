export { type AuditConfig, auditConfigSchema } from './config.js';
export { type AuditService, createAudit } from './service.js';
export { type AuditTopics, auditTopology, DEFAULT_TOPICS } from './topology.js';
