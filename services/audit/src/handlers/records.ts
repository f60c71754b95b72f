// Turns what audit consumes into audit lines, and keeps the projection. Lifecycle events are checked
// against the state machine as they are applied: an illegal one is recorded and alerted, never applied.
import { createHash } from 'node:crypto';
import { applyTransition, type Emit, type Logger, maskPii, type RuntimeRecord } from '@booking/kit';
import type { AuditRecord, DeadLetter, LifecycleTransition } from '@booking/schemas';
import type { Redis } from 'ioredis';
import type { Counter } from 'prom-client';
import type { AuditLine, AuditLog } from '../audit-log.js';

export interface RecordDeps {
  redis: Redis;
  log: AuditLog;
  projectionPrefix: string;
  projectionTtlMs: number;
  logger: Logger;
  alerts: Counter<'kind'>;
}

const auditId = (r: RuntimeRecord<unknown>) =>
  createHash('sha256').update(`${r.topic}/${r.partition}/${r.offset}`).digest('hex').slice(0, 24);
const base = (r: RuntimeRecord<unknown>) => ({
  auditId: auditId(r),
  topic: r.topic,
  partition: r.partition,
  offset: r.offset,
  recordedAt: new Date().toISOString(),
});

/** Buffers and bytes as base64 (masked fields stay masked), so lines are plain JSON. */
function plain(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

export function lifecycleHandler(deps: RecordDeps) {
  return async (r: RuntimeRecord<LifecycleTransition>): Promise<Emit[]> => {
    const e = r.value;
    const result = await applyTransition(deps.redis, e, deps.projectionTtlMs, deps.projectionPrefix);
    const line: AuditLine = {
      ...base(r),
      kind: 'TRANSITION',
      appointmentId: e.appointmentId,
      correlationId: e.correlationId,
      from: e.from,
      to: e.to,
      reason: e.reason,
      at: new Date(e.at).toISOString(),
      payload: { eventId: e.eventId, actor: e.actor, attempt: e.attempt, bookingId: e.bookingId },
    };
    // Already applied: a redelivery, or our own retry after Redis applied the event but its answer
    // was lost. The line is written again, marked, so the trail cannot miss the transition.
    if (result.kind === 'duplicate') line.duplicate = true;
    if (result.kind === 'illegal') {
      line.kind = 'ILLEGAL_TRANSITION';
      line.alert = true;
      line.reason = `illegal ${e.from ?? '(none)'} -> ${e.to} while the appointment is ${result.current ?? '(unknown)'}; not applied`;
      deps.alerts.inc({ kind: 'illegal_transition' });
      deps.logger.error(
        {
          alert: true,
          appointmentId: e.appointmentId,
          correlationId: e.correlationId,
          from: e.from,
          to: e.to,
          current: result.current,
        },
        'illegal transition: recorded, not applied',
      );
    }
    await deps.log.append([line]);
    return [];
  };
}

export function deadLetterHandler(deps: RecordDeps) {
  return async (r: RuntimeRecord<DeadLetter>): Promise<Emit[]> => {
    const d = r.value;
    await deps.log.append([
      {
        ...base(r),
        kind: 'DEAD_LETTER',
        appointmentId: d.appointmentId,
        correlationId: d.correlationId,
        from: null,
        to: null,
        reason: d.reason,
        at: new Date(d.deadLetteredAt).toISOString(),
        payload: plain(maskPii('DeadLetter', d)),
      },
    ]);
    return [];
  };
}

export function auditRecordHandler(deps: RecordDeps) {
  return async (r: RuntimeRecord<AuditRecord>): Promise<Emit[]> => {
    const a = maskPii('AuditRecord', r.value);
    if (a.kind === 'ALERT' || a.kind === 'QUARANTINE') deps.alerts.inc({ kind: a.kind.toLowerCase() });
    await deps.log.append([
      {
        ...base(r),
        kind: a.kind === 'QUARANTINE' ? 'QUARANTINE' : a.kind === 'TRANSITION' ? 'TRANSITION' : 'ALERT',
        appointmentId: a.appointmentId,
        correlationId: a.correlationId,
        from: a.from,
        to: a.to,
        reason: a.reason,
        at: new Date(a.at).toISOString(),
        ...(a.kind === 'QUARANTINE' || a.kind === 'ALERT' ? { alert: true as const } : {}),
        payload: {
          source: { topic: a.topic, partition: a.partition, offset: a.offset },
          maskedPayload: a.maskedPayload,
          raw: a.rawBase64,
        },
      },
    ]);
    return [];
  };
}
