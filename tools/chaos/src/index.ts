export * from './broker.js';
export * from './broker-restart.js';
export * from './workload.js';
