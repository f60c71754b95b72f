// One dead-lettered appointment: what does the provider hold for it?
//   a live booking and still wanted (deadline not passed)  -> CONFIRMED (extra bookings compensated)
//   a live booking no longer wanted                         -> COMPENSATING + a compensation command
//   no booking at all                                       -> FAILED ("verified: no booking")
// A record that names no appointment (poison from upstream) is quarantined as an audit record with
// its reason and raw bytes: never lost. A provider failure keeps the record for a retry.
import { createHash } from 'node:crypto';
import {
  type AppointmentState,
  type Emit,
  emit,
  HEADERS,
  type Logger,
  lifecycleEmit,
  type Outcome,
  PipelineError,
  type ProviderBooking,
  type RuntimeRecord,
  startCompensation,
} from '@booking/kit';
import type { AuditRecord, DeadLetter, ReconciliationOutcome } from '@booking/schemas';

export interface ReconcilerTopics {
  dlt: string;
  lifecycle: string;
  compensation: string;
  reconciliation: string;
  audit: string;
}

/** What the handler needs from the outside world. */
export interface ReconcilePorts {
  /** Every booking the provider holds for an appointment; throws (retryable) when it cannot tell. */
  findByExternalRef(appointmentId: string): Promise<ProviderBooking[]>;
  /** Counts a decision (booking_reconciliations_total). */
  count(decision: ReconciliationOutcome['decision'] | 'QUARANTINE'): void;
  logger: Logger;
  now(): number;
  /**
   * "No booking" after failed attempts is believed only this long after the dead letter: a create
   * that timed out can still land at the provider later (seen in the rebalance crash test: a
   * booking made 0.7 s after the appointment was decided FAILED). Until then the letter waits in
   * its key's place. Default 0.
   */
  lateCreateWindowMs?: number;
}

const ACTOR = 'reconciler';

export function reconcileHandler(topics: ReconcilerTopics, deps: ReconcilePorts) {
  const { now } = deps;
  return async (r: RuntimeRecord<DeadLetter>): Promise<Outcome> => {
    const d = r.value;
    if (!d.appointmentId) {
      deps.count('QUARANTINE');
      deps.logger.warn(
        {
          failureReason: d.reason,
          topic: d.originalTopic,
          partition: d.originalPartition,
          offset: d.originalOffset,
        },
        'unattributable dead letter quarantined',
      );
      const record: AuditRecord = {
        auditId: createHash('sha256')
          .update(`${r.topic}/${r.partition}/${r.offset}`)
          .digest('hex')
          .slice(0, 24),
        kind: 'QUARANTINE',
        appointmentId: null,
        correlationId: d.correlationId,
        from: null,
        to: null,
        reason: `${d.reason}: ${d.errorMessage}`,
        topic: d.originalTopic,
        partition: d.originalPartition,
        offset: d.originalOffset,
        at: d.deadLetteredAt,
        maskedPayload: JSON.stringify({
          errorClass: d.errorClass,
          fieldErrors: d.fieldErrors,
          headers: d.originalHeaders,
        }),
        rawBase64: d.originalValue ? d.originalValue.toString('base64') : null,
      };
      return emit({ topic: topics.audit, key: null, value: record });
    }

    const id = d.appointmentId;
    const correlationId = d.correlationId ?? id;
    const attempt = d.attempts;
    const log = deps.logger.child({ appointmentId: id, correlationId, reason: d.reason });
    const bookings = await deps.findByExternalRef(id); // throws retryable: record kept
    const live = bookings.filter((b) => b.status === 'CONFIRMED' || b.status === 'PENDING');
    const wanted = d.deadline == null || now() < d.deadline;
    const move = (
      from: AppointmentState,
      to: AppointmentState,
      reason: string,
      bookingId: string | null = null,
    ) =>
      lifecycleEmit(
        topics.lifecycle,
        {
          appointmentId: id,
          from,
          to,
          actor: ACTOR,
          correlationId,
          attempt,
          bookingId,
          reason,
          deadline: d.deadline,
        },
        {
          [HEADERS.correlationId]: correlationId,
        },
      );
    const outcome = (decision: ReconciliationOutcome['decision'], reason: string): Emit => {
      deps.count(decision);
      log.info({ decision, bookingIds: live.map((b) => b.bookingId) }, `reconciled: ${decision}`);
      const value: ReconciliationOutcome = {
        appointmentId: id,
        decision,
        bookingIds: live.map((b) => b.bookingId),
        reason,
        decidedAt: now(),
        correlationId,
        trigger: d.reason === 'STUCK' ? 'SWEEP' : 'DEAD_LETTER',
      };
      return { topic: topics.reconciliation, key: id, value };
    };

    const emits: Emit[] = [move('DEAD_LETTERED', 'RECONCILING', d.reason)];
    const waitMs = (deps.lateCreateWindowMs ?? 0) - (now() - d.deadLetteredAt);
    if (live.length === 0 && (d.reason === 'RETRIES_EXHAUSTED' || d.reason === 'STUCK') && waitMs > 0) {
      throw new PipelineError(
        'PROVIDER_TIMEOUT',
        `no booking yet for ${id}; an earlier create may still land: decided in ${waitMs} ms`,
        { retryable: true },
      );
    }
    if (live.length === 0) {
      return emit(
        ...emits,
        move('RECONCILING', 'FAILED', 'verified: no booking at the provider'),
        outcome('FAIL', 'no booking at the provider'),
      );
    }
    const compensate = (
      bookingId: string,
      calendarId: string,
      from: 'RECONCILING' | null,
      cause: 'DEADLINE_PASSED' | 'DUPLICATE_BOOKING',
    ) =>
      startCompensation({
        lifecycleTopic: topics.lifecycle,
        compensationTopic: topics.compensation,
        appointmentId: id,
        bookingId,
        calendarId,
        from,
        cause,
        correlationId,
        actor: ACTOR,
        attempt,
        now: now(),
      });
    if (wanted) {
      const keep = live.find((b) => b.status === 'CONFIRMED');
      if (!keep) {
        // Still pending at the provider and still wanted: decide later.
        throw new PipelineError('DEPENDENCY_UNAVAILABLE', `booking for ${id} still pending at the provider`, {
          retryable: true,
        });
      }
      const extras = live
        .filter((b) => b !== keep)
        .flatMap((b) => compensate(b.bookingId, b.calendarId ?? '', null, 'DUPLICATE_BOOKING'));
      return emit(
        ...emits,
        move('RECONCILING', 'CONFIRMED', 'booking found at the provider', keep.bookingId),
        ...extras,
        outcome('CONFIRM', 'booking exists and is still wanted'),
      );
    }
    const [first, ...rest] = live;
    return emit(
      ...emits,
      ...compensate(first!.bookingId, first!.calendarId ?? '', 'RECONCILING', 'DEADLINE_PASSED'),
      ...rest.flatMap((b) => compensate(b.bookingId, b.calendarId ?? '', null, 'DUPLICATE_BOOKING')),
      outcome('COMPENSATE', 'booking exists but the deadline has passed'),
    );
  };
}
