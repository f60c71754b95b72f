// Header names carried by every record (ARCHITECTURE.md, "Headers"), and helpers to read them.
import { randomBytes } from 'node:crypto';
import type { RecordHeaders } from './emit.js';

export const HEADERS = {
  correlationId: 'x-correlation-id',
  traceparent: 'traceparent',
  attempt: 'x-attempt',
  deadline: 'x-deadline',
  firstSeen: 'x-first-seen',
  notBefore: 'x-not-before',
  originalTopic: 'x-original-topic',
  originalPartition: 'x-original-partition',
  originalOffset: 'x-original-offset',
  errorClass: 'x-error-class',
  errorMessage: 'x-error-message',
  /** Attempts so far that never reached the outside (refused by our own circuit breaker). */
  uncalled: 'x-uncalled-attempts',
} as const;

/** Longest header value read: anything longer is cut (issue 12: headers are hostile input). */
export const MAX_HEADER_CHARS = 256;

/** The first value of a header as text, at most MAX_HEADER_CHARS of it. */
export function headerValue(headers: RecordHeaders | undefined, name: string): string | undefined {
  const raw = headers?.[name];
  const first = Array.isArray(raw) ? raw[0] : raw;
  if (first === undefined || first === null) return undefined;
  const text = Buffer.isBuffer(first)
    ? first.subarray(0, MAX_HEADER_CHARS * 4).toString('utf8')
    : String(first);
  return text.length > MAX_HEADER_CHARS ? text.slice(0, MAX_HEADER_CHARS) : text;
}

const EPOCH_MS: [number, number] = [0, 8.64e15];
/** The range each numeric header may take; a value outside it (or not an integer) is absent. */
const NUMERIC_RANGES: Record<string, [number, number]> = {
  [HEADERS.attempt]: [1, 10_000],
  [HEADERS.uncalled]: [0, 10_000],
  [HEADERS.originalPartition]: [0, 2 ** 31 - 1],
  [HEADERS.originalOffset]: [0, Number.MAX_SAFE_INTEGER],
  [HEADERS.deadline]: EPOCH_MS,
  [HEADERS.firstSeen]: EPOCH_MS,
  [HEADERS.notBefore]: EPOCH_MS,
};

/**
 * A numeric header as a safe integer within its range, or undefined: a value such as `1.5`, `1e400`,
 * `-3` or `abc` never reaches an Avro int or long (it used to fail the DLT record's encoding and
 * wedge the partition, issue 12).
 */
export function headerNumber(headers: RecordHeaders | undefined, name: string): number | undefined {
  const v = headerValue(headers, name)?.trim();
  if (!v || !/^-?\d{1,16}$/.test(v)) return undefined;
  const n = Number(v);
  const [min, max] = NUMERIC_RANGES[name] ?? [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER];
  return Number.isSafeInteger(n) && n >= min && n <= max ? n : undefined;
}

/** The attempt a record stands for (x-attempt), 1 for a first attempt. */
export function attemptOf(record: { headers: RecordHeaders }): number {
  return headerNumber(record.headers, HEADERS.attempt) ?? 1;
}

const KNOWN_HEADERS = new Set<string>(Object.values(HEADERS));

/**
 * The pipeline's own headers as strings, for a DLT record's `originalHeaders`: an allow-list, so a
 * producer's other headers (which may carry anything, personal data included) are not copied.
 */
export function headersToStrings(headers: RecordHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(headers ?? {})) {
    if (!KNOWN_HEADERS.has(name)) continue;
    const v = headerValue(headers, name);
    if (v !== undefined) out[name] = v;
  }
  return out;
}

/** A new W3C trace context: version 00, random trace and span ids, sampled. */
export function newTraceparent(): string {
  return `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`;
}

export interface RetryHeadersInput {
  correlationId: string;
  attempt: number;
  notBefore: number;
  /** Used when the record carries no first-seen time yet. */
  firstSeen: number;
  errorClass: string;
  errorMessage: string;
  deadline?: number | null;
  /** Attempts up to this one refused without a call (written when above 0). */
  uncalled?: number;
}

/**
 * Headers of a record sent to a retry topic: the next attempt and when it is due, the error, and the
 * first origin (topic/partition/offset and first-seen time survive any number of retries).
 */
export function retryHeaders(
  source: { topic: string; partition: number; offset: string; headers: RecordHeaders },
  next: RetryHeadersInput,
): Record<string, string> {
  const keep = (name: string, fallback: string) => headerValue(source.headers, name) ?? fallback;
  const traceparent = headerValue(source.headers, HEADERS.traceparent);
  return {
    [HEADERS.correlationId]: next.correlationId,
    ...(traceparent ? { [HEADERS.traceparent]: traceparent } : {}),
    [HEADERS.attempt]: String(next.attempt),
    [HEADERS.notBefore]: String(next.notBefore),
    [HEADERS.firstSeen]: keep(HEADERS.firstSeen, String(next.firstSeen)),
    [HEADERS.originalTopic]: keep(HEADERS.originalTopic, source.topic),
    [HEADERS.originalPartition]: keep(HEADERS.originalPartition, String(source.partition)),
    [HEADERS.originalOffset]: keep(HEADERS.originalOffset, source.offset),
    [HEADERS.errorClass]: next.errorClass,
    [HEADERS.errorMessage]: next.errorMessage.slice(0, 200),
    ...(next.deadline != null ? { [HEADERS.deadline]: String(next.deadline) } : {}),
    ...(next.uncalled ? { [HEADERS.uncalled]: String(next.uncalled) } : {}),
  };
}
