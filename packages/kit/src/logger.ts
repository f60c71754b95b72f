// pino with PII and secrets redacted before anything is written.
import { createHash } from 'node:crypto';
import pino, { type Logger, type LoggerOptions } from 'pino';
import { allPiiPaths, MASK } from './pii.js';

export type { Logger };

const SECRET_KEYS = ['authorization', 'cookie', 'apiKey', 'token', 'password', 'secret', 'idempotencyKey'];

/**
 * Where a log line could carry a contract's record or an HTTP request whole: a PII path is
 * redacted at the top level and under each of these. Log calls pass flat, named fields; these are
 * the belt to those braces.
 */
const CONTAINERS = ['value', 'record', 'request', 'body', 'payload', 'req', 'req.body'];

/**
 * Redaction paths, every one explicit: the PII paths of the contracts (their `pii` marks) and the
 * secret-bearing keys, at the top level and under CONTAINERS. No wildcards: pino's redaction
 * with `*.` paths cost 65–75 µs a call against a few µs without (issue 13); the PII scan of every
 * log of the test run checks that nothing slips through.
 */
export function redactPaths(): string[] {
  const leaves = [
    ...allPiiPaths(),
    ...SECRET_KEYS,
    'headers.authorization',
    'headers.cookie',
    'headers["idempotency-key"]',
  ];
  const out = new Set<string>();
  for (const leaf of leaves) {
    out.add(leaf);
    for (const c of CONTAINERS) out.add(`${c}.${leaf}`);
  }
  return [...out];
}

export interface CreateLoggerOptions {
  service: string;
  level?: string;
  /** Where to write; default stdout. Tests pass a stream to inspect what was logged. */
  destination?: pino.DestinationStream;
  /** File descriptor when no destination is given: 1 (stdout, default) or 2 (commands whose stdout is data). */
  fd?: 1 | 2;
}

export function createLogger({ service, level = 'info', destination, fd = 1 }: CreateLoggerOptions): Logger {
  const options: LoggerOptions = {
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: redactPaths(), censor: MASK },
    formatters: { level: (label) => ({ level: label }) },
  };
  // pino.destination is asynchronous-buffered (sync: false): no synchronous write per message.
  return pino(options, destination ?? pino.destination({ fd, sync: false }));
}

/** Idempotency keys are never logged; this short stable hash is, so lines can still be joined. */
export function hashKey(value: string): string {
  return createHash('sha256').update(value).digest('hex').slice(0, 16);
}
