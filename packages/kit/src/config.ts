// Environment validated once at start: every problem listed in one error, then frozen.
import { z } from 'zod';
import { ConfigError } from './errors.js';
import type { RetryPolicy } from './kafka/retry-policy.js';
import { DEFAULT_RETRY_DELAYS_MS } from './topics.js';

const brokerList = z
  .string()
  .min(1)
  .transform((s) =>
    s
      .split(',')
      .map((b) => b.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.string().regex(/^[^\s:]+:\d{1,5}$/, 'each broker must be host:port')).min(1));

const msList = z
  .string()
  .transform((s) => s.split(',').map((v) => Number(v.trim())))
  .pipe(z.array(z.number().int().positive('each delay must be a positive integer of ms')).min(1));

/** The variables every service reads. Services extend this with their own. */
export const baseConfigShape = {
  SERVICE_NAME: z.string().min(1),
  KAFKA_BROKERS: brokerList,
  SCHEMA_REGISTRY_URL: z.url(),
  REDIS_URL: z.string().regex(/^rediss?:\/\/.+/, 'must be a redis:// or rediss:// URL'),
  /** A Redis without an append-only file is refused at start unless this is true (a throwaway one). */
  REDIS_ALLOW_NO_PERSISTENCE: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  RETRY_DELAYS_MS: msList.default([...DEFAULT_RETRY_DELAYS_MS]),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  /**
   * A consumer whose fetch loop is silent, or whose partitions keep lag without progress, this long
   * is reported stuck on /healthz and restarted in place (issue 20).
   */
  CONSUMER_STUCK_AFTER_MS: z.coerce.number().int().min(1000).default(60_000),
  /** Prefix of every topic name (see topicNames); empty in production. */
  TOPIC_PREFIX: z.string().default(''),
};

export const baseConfigSchema = z.object(baseConfigShape);

/** A service's name and its consumer groups' prefix (`<prefix>.<group>`), both `name` by default. */
export const identityShape = (name: string) => ({
  SERVICE_NAME: z.string().default(name),
  GROUP_PREFIX: z.string().default(name),
});

/** The calendar provider a service calls. */
export const providerConfigShape = {
  PROVIDER_URL: z.url(),
  PROVIDER_TOKEN: z.string().min(8),
  /** Timeout of a look-up or cancel; a create's is bounded further by the remaining deadline. */
  PROVIDER_TIMEOUT_MS: z.coerce.number().int().positive().default(2000),
};

/** A retry schedule through retry topics: RETRY_DELAYS_MS (base), MAX_ATTEMPTS, RETRY_JITTER. */
export const retryConfigShape = {
  MAX_ATTEMPTS: z.coerce.number().int().min(1).default(5),
  RETRY_JITTER: z.coerce.number().min(0).max(0.9).default(0.2),
};

/** The retry policy of a configuration with the retry variables. */
export function retryPolicyOf(c: {
  RETRY_DELAYS_MS: readonly number[];
  MAX_ATTEMPTS: number;
  RETRY_JITTER: number;
}): RetryPolicy {
  return { delaysMs: c.RETRY_DELAYS_MS, maxAttempts: c.MAX_ATTEMPTS, jitter: c.RETRY_JITTER };
}

/**
 * Where audit keeps the status projection in Redis (`<prefix><appointmentId>`): written by audit,
 * read by intake's status API, the reconciler's sweep and the tools. Defined once, here.
 */
export const PROJECTION_PREFIX = z.string().min(1).default('apt:');
export type BaseConfig = z.infer<typeof baseConfigSchema>;

/**
 * Parses `env` with `schema`; on failure throws one ConfigError naming every bad variable.
 * Values are never echoed back (they may be secrets).
 */
export function loadConfig<S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined> = process.env,
): Readonly<z.infer<S>> {
  const result = schema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const name = issue.path.join('.') || '(environment)';
      return issue.code === 'invalid_type' && issue.input === undefined
        ? `${name}: required`
        : `${name}: ${issue.message}`;
    });
    throw new ConfigError(problems);
  }
  return Object.freeze(result.data);
}

/**
 * A variable a command-line tool needs (the stack's, from `./stack/stack.sh env`): its value or
 * `fallback`; otherwise the tool says which one and exits 2.
 */
export function stackVariable(name: string, fallback?: string): string {
  const v = process.env[name] ?? fallback;
  if (!v) {
    process.stderr.write(`${name} is not set: run eval "$(./stack/stack.sh env)" first\n`);
    process.exit(2);
  }
  return v;
}
