export * from './app.js';
export * from './options.js';
