export * from './cases.js';
export * from './fuzz.js';
export * from './material.js';
export * from './raw-http.js';
export * from './topics.js';
