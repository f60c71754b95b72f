// Header names carried by every record (ARCHITECTURE.md, "Headers"), and helpers to read them.
import { randomBytes } from 'node:crypto';
import type { IHeaders } from 'kafkajs';

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
} as const;

export function headerValue(headers: IHeaders | undefined, name: string): string | undefined {
  const raw = headers?.[name];
  const first = Array.isArray(raw) ? raw[0] : raw;
  if (first === undefined || first === null) return undefined;
  return Buffer.isBuffer(first) ? first.toString('utf8') : String(first);
}

export function headerNumber(headers: IHeaders | undefined, name: string): number | undefined {
  const v = headerValue(headers, name);
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/** All headers as strings (for the DLT record's `originalHeaders`). */
export function headersToStrings(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(headers ?? {})) {
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
}

/**
 * Headers of a record sent to a retry topic: the next attempt and when it is due, the error, and the
 * first origin (topic/partition/offset and first-seen time survive any number of retries).
 */
export function retryHeaders(
  source: { topic: string; partition: number; offset: string; headers: IHeaders },
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
  };
}
