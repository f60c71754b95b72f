// Builds the DLT record: the raw bytes as received (bounded), where they came from, and why.
// Keys only as hashes unless they are appointment ids, headers only from the pipeline's allow-list
// (issue 12: idempotency keys and every header used to be copied unmasked).
import { createHash } from 'node:crypto';
import type { DeadLetter } from '@booking/schemas';
import { errorCode } from '../errors.js';
import type { Emit, RecordHeaders, RecordSource } from './emit.js';
import { HEADERS, headerNumber, headersToStrings, headerValue } from './headers.js';

export interface DeadLetterInput {
  dltTopic: string;
  source: RecordSource;
  reason: string;
  error: unknown;
  appointmentId?: string | null;
  fieldErrors?: string[];
  attempts?: number;
  deadline?: number | null;
  correlationId?: string | null;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The most of a record's value a dead letter keeps: with its envelope, far below a broker's 1 MB. */
export const MAX_KEPT_VALUE_BYTES = 256 * 1024;
const APPOINTMENT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** An appointment id stays as it is; any other key becomes `sha256:<hex>` (it may hold personal data). */
export function safeKey(key: Buffer | string | null | undefined): string | null {
  if (key === null || key === undefined) return null;
  const text = Buffer.isBuffer(key) ? key.toString('utf8') : key;
  if (APPOINTMENT_ID.test(text)) return text;
  return `sha256:${createHash('sha256').update(key).digest('hex')}`;
}

export function deadLetterEmit(input: DeadLetterInput): Emit {
  const { message: m, topic, partition } = input.source;
  const headers: RecordHeaders = m.headers ?? {};
  const now = Date.now();
  const key = safeKey(m.key);
  const tooBig = (m.value?.length ?? 0) > MAX_KEPT_VALUE_BYTES;
  const value: DeadLetter = {
    appointmentId: input.appointmentId ?? null,
    reason: input.reason,
    errorClass: errorCode(input.error),
    errorMessage: `${message(input.error).slice(0, 2000)}${
      tooBig
        ? ` (the original value, ${m.value?.length} bytes, is over ${MAX_KEPT_VALUE_BYTES} and is not kept)`
        : ''
    }`,
    fieldErrors: input.fieldErrors ?? [],
    // A record that already came through a retry topic keeps its first origin.
    originalTopic: headerValue(headers, HEADERS.originalTopic) ?? topic,
    originalPartition: headerNumber(headers, HEADERS.originalPartition) ?? partition,
    originalOffset: headerNumber(headers, HEADERS.originalOffset) ?? Number(m.offset),
    originalKey: key === null ? null : Buffer.from(key),
    originalValue: tooBig ? null : (m.value ?? null),
    originalHeaders: headersToStrings(headers),
    attempts: input.attempts ?? headerNumber(headers, HEADERS.attempt) ?? 1,
    firstSeenAt: headerNumber(headers, HEADERS.firstSeen) ?? now,
    deadLetteredAt: now,
    deadline: input.deadline ?? headerNumber(headers, HEADERS.deadline) ?? null,
    correlationId: input.correlationId ?? headerValue(headers, HEADERS.correlationId) ?? null,
  };
  return {
    topic: input.dltTopic,
    key: input.appointmentId ?? key,
    value,
    headers: {
      [HEADERS.errorClass]: value.errorClass,
      [HEADERS.errorMessage]: value.errorMessage.slice(0, 200),
      [HEADERS.originalTopic]: value.originalTopic,
      [HEADERS.originalPartition]: String(value.originalPartition),
      [HEADERS.originalOffset]: String(value.originalOffset),
      ...(value.correlationId ? { [HEADERS.correlationId]: value.correlationId } : {}),
    },
  };
}
