// A record from appointments.inbound.v1: validate, accept (or recognise a repeat), or dead-letter.
import { randomUUID } from 'node:crypto';
import {
  emit,
  HEADERS,
  hashKey,
  headerValue,
  type Logger,
  type Outcome,
  type RuntimeRecord,
} from '@booking/kit';
import type { InboundRequest } from '@booking/schemas';
import type { IntakeMetrics } from '../metrics.js';
import {
  correlationIdOr,
  fieldErrors,
  inboundRecordSchema,
  toRequest,
  unsafeTextErrors,
  validTraceparent,
} from '../validation.js';
import { type AcceptDeps, accept } from './accept.js';

export interface InboundDeps extends AcceptDeps {
  logger: Logger;
  metrics: Pick<IntakeMetrics, 'accepted' | 'idempotencyHits'>;
  /** How far ahead a slot or deadline may lie. */
  horizonMs?: number;
}

export function inboundHandler(deps: InboundDeps) {
  // The deadline is judged at the record's timestamp (validation.ts); `safeParse` is synchronous,
  // so this one variable serves every record in turn.
  let publishedAt = 0;
  const schema = inboundRecordSchema(deps.now, deps.horizonMs, () => publishedAt);
  return async (record: RuntimeRecord<InboundRequest>): Promise<Outcome> => {
    // The same header rules as HTTP's: a correlation id plain and bounded or replaced, a traceparent
    // well-formed or dropped.
    const correlationId = correlationIdOr(headerValue(record.headers, HEADERS.correlationId), randomUUID());
    const now = (deps.now ?? Date.now)();
    const stamped = Number(record.timestamp);
    // A timestamp in the future (a producer's clock, or a hostile one) counts as now.
    publishedAt = Number.isFinite(stamped) && stamped > 0 ? Math.min(stamped, now) : now;
    const unsafe = unsafeTextErrors(record.value);
    const parsed = schema.safeParse(record.value);
    if (unsafe.length > 0 || !parsed.success) {
      const others = parsed.success
        ? []
        : fieldErrors(parsed.error).filter((e) => !unsafe.some((u) => u.field === e.field));
      return {
        kind: 'dead-letter',
        reason: 'VALIDATION_FAILED',
        message: 'the record failed validation',
        fieldErrors: [...unsafe, ...others].map((e) => `${e.field}: ${e.message}`),
        about: { correlationId },
      };
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
        traceparent: validTraceparent(headerValue(record.headers, HEADERS.traceparent)),
        origin: `${record.topic}/${record.partition}/${record.offset}`,
      },
      'accepted',
    );
    const fields = {
      appointmentId: result.appointmentId,
      correlationId,
      idempotencyKeyHash: hashKey(r.idempotencyKey),
    };
    switch (result.kind) {
      case 'accepted':
        deps.metrics.accepted.inc({ channel: 'kafka' });
        deps.logger.info({ ...fields, to: 'REQUESTED', calendarId: r.calendarId }, 'accepted');
        return emit(...result.emits);
      case 'replay':
      case 'in-progress':
        deps.metrics.idempotencyHits.inc({ channel: 'kafka', outcome: 'duplicate' });
        deps.logger.info(fields, 'duplicate inbound record: already accepted');
        return emit();
      case 'conflict':
        deps.metrics.idempotencyHits.inc({ channel: 'kafka', outcome: 'conflict' });
        return {
          kind: 'dead-letter',
          reason: 'IDEMPOTENCY_CONFLICT',
          message: 'idempotencyKey already used by this source with a different body',
          about: { correlationId },
        };
    }
  };
}
