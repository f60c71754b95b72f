export interface StackEnv {
  kafkaBrokers: string;
  schemaRegistryUrl: string;
  redisUrl: string;
  origin: 'environment' | 'testcontainers' | 'stack.sh';
}
