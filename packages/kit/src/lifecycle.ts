// Builds lifecycle events through the state machine: an illegal move throws, so it is never emitted.
import { createHash } from 'node:crypto';
import type { LifecycleTransition } from '@booking/schemas';
import type { Emit } from './kafka/emit.js';
import { HEADERS } from './kafka/headers.js';
import { type AppointmentState, transition } from './state-machine.js';

export interface TransitionInput {
  appointmentId: string;
  from: AppointmentState | null;
  to: AppointmentState;
  actor: string;
  correlationId: string;
  reason?: string | null;
  attempt?: number;
  bookingId?: string | null;
  source?: string | null;
  idempotencyKeyHash?: string | null;
  calendarId?: string | null;
  deadline?: number | null;
  at?: number;
}

/**
 * Deterministic event id: a handler that runs again for the same record (redelivery) emits the
 * same id, so projections and audit can drop the duplicate.
 */
export function transitionEventId(
  appointmentId: string,
  from: string | null,
  to: string,
  attempt: number,
): string {
  return createHash('sha256')
    .update(`${appointmentId}|${from ?? ''}|${to}|${attempt}`)
    .digest('hex')
    .slice(0, 32);
}

export function lifecycleEvent(input: TransitionInput): LifecycleTransition {
  transition(input.from, input.to);
  const attempt = input.attempt ?? 0;
  return {
    eventId: transitionEventId(input.appointmentId, input.from, input.to, attempt),
    appointmentId: input.appointmentId,
    from: input.from,
    to: input.to,
    at: input.at ?? Date.now(),
    reason: input.reason ?? null,
    attempt,
    bookingId: input.bookingId ?? null,
    actor: input.actor,
    correlationId: input.correlationId,
    source: input.source ?? null,
    idempotencyKeyHash: input.idempotencyKeyHash ?? null,
    calendarId: input.calendarId ?? null,
    deadline: input.deadline ?? null,
  };
}

export function lifecycleEmit(
  topic: string,
  input: TransitionInput & { since?: number },
  headers: Record<string, string> = {},
): Emit {
  return {
    topic,
    key: input.appointmentId,
    value: lifecycleEvent(input),
    headers: { ...headers, [HEADERS.correlationId]: input.correlationId },
    transition: {
      appointmentId: input.appointmentId,
      correlationId: input.correlationId,
      from: input.from,
      to: input.to,
      reason: input.reason ?? null,
      bookingId: input.bookingId ?? null,
      ...(input.since !== undefined ? { since: input.since } : {}),
    },
  };
}
