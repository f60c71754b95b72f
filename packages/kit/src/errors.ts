// One error base for the whole pipeline: a code, whether a retry can help, and the cause.
// Classification happens here, once (house style: kafkajs src/errors.js, platformatic/kafka).

export const ERROR_CODES = [
  'CONFIG_INVALID',
  'DECODE_FAILED',
  'VALIDATION_FAILED',
  'SCHEMA_REGISTRY_UNAVAILABLE',
  'ILLEGAL_TRANSITION',
  'IDEMPOTENCY_CONFLICT',
  'DEPENDENCY_UNAVAILABLE',
  'TOPIC_SETUP_FAILED',
  'PROVIDER_UNAVAILABLE',
  'PROVIDER_TIMEOUT',
  'PROVIDER_RATE_LIMITED',
  'PROVIDER_REJECTED',
  'PROVIDER_AUTH',
  'DEADLINE_EXCEEDED',
  'RETRIES_EXHAUSTED',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface PipelineErrorOptions {
  retryable?: boolean;
  cause?: unknown;
  details?: Record<string, unknown>;
}

export class PipelineError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: PipelineErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.details = options.details ?? {};
  }
}

export class ConfigError extends PipelineError {
  constructor(readonly problems: string[]) {
    super('CONFIG_INVALID', `invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

export class DecodeError extends PipelineError {
  constructor(message: string, cause?: unknown) {
    super('DECODE_FAILED', message, { cause, retryable: false });
  }
}

export class ValidationError extends PipelineError {
  constructor(readonly fieldErrors: { field: string; message: string }[]) {
    super('VALIDATION_FAILED', `invalid: ${fieldErrors.map((e) => `${e.field}: ${e.message}`).join('; ')}`, {
      retryable: false,
    });
  }
}

export class IllegalTransitionError extends PipelineError {
  constructor(
    readonly from: string | null,
    readonly to: string,
  ) {
    super('ILLEGAL_TRANSITION', `illegal transition ${from ?? '(none)'} -> ${to}`, { retryable: false });
  }
}

/** True only for errors that say a retry can help; programmer errors (TypeError…) never are. */
export function isRetryable(err: unknown): boolean {
  return err instanceof PipelineError && err.retryable;
}

const TRANSIENT_NAMES = new Set([
  'KafkaJSConnectionError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSNumberOfRetriesExceeded',
  'KafkaJSNonRetriableError',
  'MaxRetriesPerRequestError',
]);

/**
 * Retryable, or an outage of our own infrastructure (broker, Redis) rather than a fault of the
 * record: such a record is kept and tried again, never dead-lettered.
 */
export function isTransient(err: unknown): boolean {
  if (isRetryable(err)) return true;
  if (err instanceof PipelineError) return false;
  if (!(err instanceof Error)) return false;
  if (TRANSIENT_NAMES.has(err.name) || (err as { retriable?: unknown }).retriable === true) return true;
  return /Connection is closed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE/.test(err.message);
}

export function errorCode(err: unknown): string {
  if (err instanceof PipelineError) return err.code;
  if (err instanceof Error) return err.name;
  return 'UNKNOWN';
}
