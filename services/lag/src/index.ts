export * from './config.js';
export * from './metrics.js';
export * from './monitor.js';
export * from './offsets.js';
export * from './record-time.js';
export * from './service.js';
export * from './status.js';
