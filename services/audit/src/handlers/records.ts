// Turns what audit consumes into audit lines, and keeps the projection. Lifecycle events are checked
// against the state machine as they are applied: an illegal one is recorded and alerted, never applied.
// Audit writes no records: every handler decides the line(s), the ports write them.
import { createHash } from 'node:crypto';
import {
  type ApplyResult,
  emit,
  type Logger,
  maskPii,
  type Outcome,
  type PoisonSource,
  type RuntimeRecord,
  safeKey,
} from '@booking/kit';
import type { AuditRecord, DeadLetter, LifecycleTransition, ReconciliationOutcome } from '@booking/schemas';
import type { AuditLine } from '../audit-log.js';

/** What the handlers need from the outside world. */
export interface AuditPorts {
  /** Applies a lifecycle event to the status projection (Redis), through the state machine. */
  apply(event: LifecycleTransition): Promise<ApplyResult>;
  /** Appends lines to the audit trail. */
  append(lines: AuditLine[]): Promise<void>;
  alert(kind: string): void;
  logger: Logger;
  now(): number;
}

const auditId = (r: RuntimeRecord<unknown>) =>
  createHash('sha256').update(`${r.topic}/${r.partition}/${r.offset}`).digest('hex').slice(0, 24);
const base = (r: RuntimeRecord<unknown>, now: number) => ({
  auditId: auditId(r),
  topic: r.topic,
  partition: r.partition,
  offset: r.offset,
  recordedAt: new Date(now).toISOString(),
});

/** Buffers and bytes as base64 (masked fields stay masked), so lines are plain JSON. */
function plain(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

export function lifecycleHandler(ports: AuditPorts) {
  return async (r: RuntimeRecord<LifecycleTransition>): Promise<Outcome> => {
    const e = r.value;
    const result = await ports.apply(e);
    const line: AuditLine = {
      ...base(r, ports.now()),
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
      ports.alert('illegal_transition');
      ports.logger.error(
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
    await ports.append([line]);
    return emit();
  };
}

export function deadLetterHandler(ports: AuditPorts) {
  return async (r: RuntimeRecord<DeadLetter>): Promise<Outcome> => {
    const d = r.value;
    await ports.append([
      {
        ...base(r, ports.now()),
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
    return emit();
  };
}

export function auditRecordHandler(ports: AuditPorts) {
  return async (r: RuntimeRecord<AuditRecord>): Promise<Outcome> => {
    const a = maskPii('AuditRecord', r.value);
    if (a.kind === 'ALERT' || a.kind === 'QUARANTINE') ports.alert(a.kind.toLowerCase());
    await ports.append([
      {
        ...base(r, ports.now()),
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
    return emit();
  };
}

/** The reconciler's decision for a dead-lettered appointment, kept in the trail beside its transitions. */
export function reconcilerDecisionHandler(ports: AuditPorts) {
  return async (r: RuntimeRecord<ReconciliationOutcome>): Promise<Outcome> => {
    const o = r.value;
    await ports.append([
      {
        ...base(r, ports.now()),
        kind: 'RECONCILER_DECISION',
        appointmentId: o.appointmentId,
        correlationId: o.correlationId,
        from: null,
        to: null,
        reason: `${o.decision}: ${o.reason}`,
        at: new Date(o.decidedAt).toISOString(),
        payload: { decision: o.decision, trigger: o.trigger, bookingIds: o.bookingIds },
      },
    ]);
    return emit();
  };
}

/** The ALERT line for a record audit cannot read: where it was and why; the key only as a hash. */
export function unreadableLine(source: PoisonSource, error: unknown, reason: string, now: number): AuditLine {
  return {
    auditId: `${source.topic}/${source.partition}/${source.message.offset}`,
    kind: 'ALERT',
    // An appointment id as it is; any other key only hashed (it may hold personal data).
    appointmentId: safeKey(source.message.key),
    correlationId: null,
    from: null,
    to: null,
    reason: `${reason}: ${error instanceof Error ? error.message : String(error)}`,
    topic: source.topic,
    partition: source.partition,
    offset: source.message.offset,
    at: new Date(Number(source.message.timestamp) || now).toISOString(),
    recordedAt: new Date(now).toISOString(),
    alert: true,
  };
}
