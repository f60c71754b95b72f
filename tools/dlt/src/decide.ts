// Whether a dead letter may be sent again, from the appointment's current state and what the
// provider holds. Pure. Nothing settled is ever sent again; nothing that could double-book is.
import type { DeadLetter } from '@booking/schemas';

export interface RedriveFacts {
  letter: DeadLetter;
  /** Topics whose records are dispatch requests (the requested topic and its retry topics). */
  dispatchTopics: readonly string[];
  /** The appointment's state in the projection (null: unknown to the pipeline). */
  state: string | null;
  /** Live (CONFIRMED or PENDING) bookings the provider holds for the appointment. */
  liveBookings: number;
  now: number;
}

export type Decision = { redrive: true } | { redrive: false; why: string };

export function decideRedrive(f: RedriveFacts): Decision {
  const l = f.letter;
  if (!l.appointmentId)
    return { redrive: false, why: 'names no appointment (quarantined by the reconciler)' };
  if (!f.dispatchTopics.includes(l.originalTopic))
    return { redrive: false, why: `not a dispatch request (from ${l.originalTopic})` };
  if (!l.originalValue) return { redrive: false, why: 'the original record is not kept' };
  if (f.state === null) return { redrive: false, why: 'the pipeline does not know the appointment' };
  if (f.state !== 'DEAD_LETTERED')
    return { redrive: false, why: `already ${f.state}: settled or being settled, not sent again` };
  if (f.liveBookings > 0)
    return { redrive: false, why: 'the provider holds a booking for it: reconcile, do not book again' };
  if (l.deadline != null && l.deadline <= f.now) return { redrive: false, why: 'its deadline has passed' };
  return { redrive: true };
}

export interface CompensationRedriveFacts {
  letter: DeadLetter;
  /** Topics whose records are compensation commands (the compensation topic and its retry topics). */
  compensationTopics: readonly string[];
  /** The appointment's state in the projection (null: unknown to the pipeline). */
  state: string | null;
}

/**
 * A compensation command that failed every attempt (the provider's DELETE kept failing) may be
 * sent again while its appointment is still COMPENSATING: cancelling is idempotent at the
 * provider, so a repeat can only finish the undo. Nothing else is sent again.
 */
export function decideCompensationRedrive(f: CompensationRedriveFacts): Decision {
  const l = f.letter;
  if (!l.appointmentId)
    return { redrive: false, why: 'names no appointment (quarantined by the reconciler)' };
  if (!f.compensationTopics.includes(l.originalTopic))
    return { redrive: false, why: `not a compensation command (from ${l.originalTopic})` };
  if (!l.originalValue) return { redrive: false, why: 'the original record is not kept' };
  if (f.state === null) return { redrive: false, why: 'the pipeline does not know the appointment' };
  if (f.state !== 'COMPENSATING')
    return { redrive: false, why: `already ${f.state}: nothing left to cancel, not sent again` };
  return { redrive: true };
}
