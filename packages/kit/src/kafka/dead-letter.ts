// Builds the DLT record: the raw bytes as received, where they came from, and why.
import type { DeadLetter } from '@booking/schemas';
import type { IHeaders, KafkaMessage } from 'kafkajs';
import { errorCode } from '../errors.js';
import type { Emit } from './emit.js';
import { HEADERS, headerNumber, headersToStrings, headerValue } from './headers.js';

export interface DeadLetterInput {
  dltTopic: string;
  source: {
    topic: string;
    partition: number;
    message: Pick<KafkaMessage, 'key' | 'value' | 'offset' | 'headers'>;
  };
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

export function deadLetterEmit(input: DeadLetterInput): Emit {
  const { message: m, topic, partition } = input.source;
  const headers: IHeaders = m.headers ?? {};
  const now = Date.now();
  const value: DeadLetter = {
    appointmentId: input.appointmentId ?? null,
    reason: input.reason,
    errorClass: errorCode(input.error),
    errorMessage: message(input.error).slice(0, 2000),
    fieldErrors: input.fieldErrors ?? [],
    // A record that already came through a retry topic keeps its first origin.
    originalTopic: headerValue(headers, HEADERS.originalTopic) ?? topic,
    originalPartition: headerNumber(headers, HEADERS.originalPartition) ?? partition,
    originalOffset: headerNumber(headers, HEADERS.originalOffset) ?? Number(m.offset),
    originalKey: m.key ?? null,
    originalValue: m.value ?? null,
    originalHeaders: headersToStrings(headers),
    attempts: input.attempts ?? headerNumber(headers, HEADERS.attempt) ?? 1,
    firstSeenAt: headerNumber(headers, HEADERS.firstSeen) ?? now,
    deadLetteredAt: now,
    deadline: input.deadline ?? headerNumber(headers, HEADERS.deadline) ?? null,
    correlationId: input.correlationId ?? headerValue(headers, HEADERS.correlationId) ?? null,
  };
  return {
    topic: input.dltTopic,
    key: input.appointmentId ?? (m.key ? m.key.toString() : null),
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
