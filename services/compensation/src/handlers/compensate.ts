// Cancel one provider booking (DELETE), the saga's undo step. Idempotent: cancelling again answers
// the same, and an unknown booking has nothing left to undo. A provider failure is retried through
// the compensation retry topics; when the attempts are spent the command goes to a dead-letter
// topic of its own with an alert: the appointment stays COMPENSATING, visibly, for a person.
import {
  attemptOf,
  type Emit,
  emit,
  errorCode,
  isTransient,
  lifecycleEmit,
  type Outcome,
  type RuntimeRecord,
} from '@booking/kit';
import type { CompensationCommand } from '@booking/schemas';

export interface CompensationTopics {
  compensation: string;
  compensationDlt: string;
  lifecycle: string;
}

/** What the handler needs from the outside world. */
export interface CompensatePorts {
  /** Cancels the booking: true if it was there, false if the provider does not know it; throws on failure. */
  cancel(bookingId: string): Promise<boolean>;
  /** Counts what the provider answered (booking_compensations_total). */
  count(outcome: 'cancelled' | 'not-found' | 'failed'): void;
}

export function compensateHandler(topics: CompensationTopics, ports: CompensatePorts) {
  return async (r: RuntimeRecord<CompensationCommand>): Promise<Outcome> => {
    const c = r.value;
    // A duplicate booking is cancelled without touching the appointment's own state.
    const settle = (reason: string): Emit[] =>
      c.cause === 'DUPLICATE_BOOKING'
        ? []
        : [
            lifecycleEmit(topics.lifecycle, {
              appointmentId: c.appointmentId,
              from: 'COMPENSATING',
              to: 'COMPENSATED',
              actor: 'compensation',
              correlationId: c.correlationId,
              attempt: attemptOf(r),
              bookingId: c.bookingId,
              calendarId: c.calendarId,
              reason,
            }),
          ];
    let cancelled: boolean;
    try {
      cancelled = await ports.cancel(c.bookingId);
    } catch (err) {
      // A programming error is not retried: thrown, for the runtime to dead-letter.
      if (!isTransient(err)) throw err;
      ports.count('failed');
      return {
        kind: 'retry',
        reason: errorCode(err),
        message: (err as Error).message,
        about: { appointmentId: c.appointmentId, correlationId: c.correlationId, firstSeen: c.requestedAt },
        exhaustedReason: 'COMPENSATION_FAILED',
        alertIfExhausted: 'compensation_failed',
      };
    }
    ports.count(cancelled ? 'cancelled' : 'not-found');
    return emit(
      ...settle(
        cancelled
          ? `booking ${c.bookingId} cancelled (${c.cause})`
          : `booking ${c.bookingId} not found at the provider`,
      ),
    );
  };
}
