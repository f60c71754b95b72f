export * from './broker.js';
export * from './broker-restart.js';
export * from './faults.js';
export * from './local-stack.js';
export * from './round.js';
export * from './workload.js';
