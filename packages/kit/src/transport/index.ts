// The librdkafka transport (issue 28), apart from the kit's main entry so that a process that does
// not use it never loads the native client.

export * from './hop.js';
export * from './lifecycle.js';
export * from './rdkafka-client.js';
export * from './transaction-batcher.js';
