// Starting the saga's undo step: move the appointment to COMPENSATING and ask compensation to cancel
// the booking. Used where the decision is made (a late confirmation in dispatch, the reconciler).
import { createHash } from 'node:crypto';
import type { CompensationCause, CompensationCommand } from '@booking/schemas';
import type { Emit } from './kafka/emit.js';
import { HEADERS } from './kafka/headers.js';
import { lifecycleEmit } from './lifecycle.js';

export interface StartCompensation {
  lifecycleTopic: string;
  compensationTopic: string;
  appointmentId: string;
  bookingId: string;
  calendarId: string;
  /** CONFIRMED (late confirmation) or RECONCILING; null for a duplicate booking (state untouched). */
  from: 'CONFIRMED' | 'RECONCILING' | null;
  cause: CompensationCause;
  correlationId: string;
  actor: string;
  attempt?: number;
  now?: number;
}

export function startCompensation(s: StartCompensation): Emit[] {
  const requestedAt = s.now ?? Date.now();
  const command: CompensationCommand = {
    // Deterministic: the same decision taken twice is the same command.
    commandId: createHash('sha256')
      .update(`${s.appointmentId}|${s.bookingId}|${s.cause}`)
      .digest('hex')
      .slice(0, 32),
    appointmentId: s.appointmentId,
    bookingId: s.bookingId,
    calendarId: s.calendarId,
    cause: s.cause,
    requestedAt,
    correlationId: s.correlationId,
  };
  const emits: Emit[] = [];
  if (s.from) {
    emits.push(
      lifecycleEmit(s.lifecycleTopic, {
        appointmentId: s.appointmentId,
        from: s.from,
        to: 'COMPENSATING',
        actor: s.actor,
        correlationId: s.correlationId,
        attempt: s.attempt ?? 0,
        bookingId: s.bookingId,
        calendarId: s.calendarId,
        reason: s.cause,
      }),
    );
  }
  emits.push({
    topic: s.compensationTopic,
    key: s.appointmentId,
    value: command,
    headers: {
      [HEADERS.correlationId]: s.correlationId,
      [HEADERS.attempt]: '1',
      [HEADERS.firstSeen]: String(requestedAt),
    },
  });
  return emits;
}
