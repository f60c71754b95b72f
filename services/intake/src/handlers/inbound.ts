// A record from appointments.inbound.v1: validate, accept (or recognise a repeat), or dead-letter.
import { randomUUID } from 'node:crypto';
import {
  deadLetterEmit,
  type Emit,
  HEADERS,
  hashKey,
  headerValue,
  type Logger,
  type RuntimeRecord,
} from '@booking/kit';
import type { InboundRequest } from '@booking/schemas';
import type { IntakeMetrics } from '../metrics.js';
import { fieldErrors, inboundRecordSchema, toRequest } from '../validation.js';
import { type AcceptDeps, accept } from './accept.js';

export interface InboundDeps extends AcceptDeps {
  dltTopic: string;
  logger: Logger;
  metrics: IntakeMetrics;
  /** How far ahead a slot or deadline may lie. */
  horizonMs?: number;
}

export function inboundHandler(deps: InboundDeps) {
  const schema = inboundRecordSchema(deps.now, deps.horizonMs);
  return async (record: RuntimeRecord<InboundRequest>): Promise<Emit[]> => {
    const { source } = record;
    const correlationId = headerValue(record.headers, HEADERS.correlationId) ?? randomUUID();
    const parsed = schema.safeParse(record.value);
    if (!parsed.success) {
      const errors = fieldErrors(parsed.error);
      deps.metrics.deadLetters.inc({ reason: 'VALIDATION_FAILED' });
      deps.logger.warn(
        { topic: record.topic, partition: record.partition, offset: record.offset, correlationId, errors },
        'invalid inbound record: dead-lettered',
      );
      return [
        deadLetterEmit({
          dltTopic: deps.dltTopic,
          source,
          reason: 'VALIDATION_FAILED',
          error: new Error('the record failed validation'),
          fieldErrors: errors.map((e) => `${e.field}: ${e.message}`),
          correlationId,
        }),
      ];
    }
    const r = parsed.data;
    const result = await accept(
      deps,
      {
        scope: `kafka:${r.source}`,
        source: r.source,
        idempotencyKey: r.idempotencyKey,
        request: toRequest(r),
        correlationId,
        traceparent: headerValue(record.headers, HEADERS.traceparent),
        origin: `${record.topic}/${record.partition}/${record.offset}`,
      },
      'accepted',
    );
    const log = deps.logger.child({
      appointmentId: result.appointmentId,
      correlationId,
      idempotencyKeyHash: hashKey(r.idempotencyKey),
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
    });
    switch (result.kind) {
      case 'accepted':
        deps.metrics.accepted.inc({ channel: 'kafka' });
        log.info({ to: 'REQUESTED', calendarId: r.calendarId }, 'accepted');
        return result.emits;
      case 'replay':
      case 'in-progress':
        deps.metrics.idempotencyHits.inc({ channel: 'kafka', outcome: 'duplicate' });
        log.info('duplicate inbound record: already accepted');
        return [];
      case 'conflict':
        deps.metrics.idempotencyHits.inc({ channel: 'kafka', outcome: 'conflict' });
        deps.metrics.deadLetters.inc({ reason: 'IDEMPOTENCY_CONFLICT' });
        log.warn('idempotency key reused with a different body: dead-lettered');
        return [
          deadLetterEmit({
            dltTopic: deps.dltTopic,
            source,
            reason: 'IDEMPOTENCY_CONFLICT',
            error: new Error('idempotencyKey already used by this source with a different body'),
            correlationId,
          }),
        ];
    }
  };
}
