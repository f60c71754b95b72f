export * from './compare-live.js';
export * from './journal.js';
export * from './mirror.js';
export * from './shadow.js';
