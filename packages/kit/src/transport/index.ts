// The librdkafka transport (issue 28), apart from the kit's main entry so that a process that does
// not use it never loads the native client.

// The finished-offsets encoding of commit metadata, shared with today's runtime.
export { decodeFinished, encodeFinished } from '../kafka/offset-tracker.js';
export * from './hop.js';
export * from './lifecycle.js';
export * from './rdkafka-client.js';
export * from './transaction-batcher.js';
