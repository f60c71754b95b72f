// The Avro contracts as data (SCHEMAS, with their `pii` marks) and as TypeScript types.
export * from './generated/index.js';
export { SCHEMAS, type SchemaName } from './generated/schemas.js';
