export * from './decide.js';
export * from './read.js';
export * from './redrive.js';
