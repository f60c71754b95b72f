// A PENDING booking comes due (appointments.pending.v1): ask the provider where it stands.
// CONFIRMED / REJECTED settle it; still PENDING polls again later with a growing interval;
// a passed deadline or a booking the provider no longer knows goes to the DLT for reconciliation.
// A provider failure throws a retryable error: the runtime keeps the record and polls again.
import {
  attemptOf,
  type Emit,
  emit,
  HEADERS,
  headersToStrings,
  type Logger,
  lifecycleEmit,
  type Outcome,
  type RuntimeRecord,
  startCompensation,
} from '@booking/kit';
import type { ProviderPoll } from '@booking/schemas';
import type { DispatchProvider } from '../adapters/ports.js';
import type { DispatchTopics } from './dispatch.js';

export interface PollSettings {
  pollMinMs: number;
  pollMaxMs: number;
}

export interface PollPorts {
  provider: Pick<DispatchProvider, 'lookup' | 'get'>;
  alert(kind: string): void;
  logger: Logger;
  now(): number;
}

export function pollHandler(topics: DispatchTopics, settings: PollSettings, ports: PollPorts) {
  const { now, logger } = ports;
  return async (record: RuntimeRecord<ProviderPoll>): Promise<Outcome> => {
    const p = record.value;
    const attempt = attemptOf(record);
    const about = { appointmentId: p.appointmentId, correlationId: p.correlationId, deadline: p.deadline };
    const fields = { appointmentId: p.appointmentId, correlationId: p.correlationId, bookingId: p.bookingId };
    const move = (to: 'CONFIRMED' | 'REJECTED' | 'DEAD_LETTERED', reason: string): Emit =>
      lifecycleEmit(topics.lifecycle, {
        appointmentId: p.appointmentId,
        from: 'PENDING_PROVIDER',
        to,
        actor: 'provider-dispatch',
        correlationId: p.correlationId,
        attempt,
        bookingId: p.bookingId,
        calendarId: p.calendarId,
        deadline: p.deadline,
        reason,
        since: p.firstSeenAt,
      });
    const deadLetter = (reason: string, message: string): Outcome => ({
      kind: 'dead-letter',
      reason,
      message,
      about,
      emit: [move('DEAD_LETTERED', reason)],
    });
    const compensate = (
      bookingId: string,
      calendarId: string,
      from: 'CONFIRMED' | null,
      cause: 'LATE_CONFIRMATION' | 'DUPLICATE_BOOKING',
    ) =>
      startCompensation({
        lifecycleTopic: topics.lifecycle,
        compensationTopic: topics.compensation,
        appointmentId: p.appointmentId,
        bookingId,
        calendarId,
        from,
        cause,
        correlationId: p.correlationId,
        actor: 'provider-dispatch',
        attempt,
        now: now(),
      });

    if (p.duplicateCheck) {
      // Once more after an ambiguous attempt: any live booking beyond the one kept is a duplicate
      // that a late request made; cancel it, leaving the appointment's own state alone.
      const live = (await ports.provider.lookup(p.appointmentId)).filter(
        (b) => b.status === 'CONFIRMED' || b.status === 'PENDING',
      );
      const extras = live.filter((b) => b.bookingId !== p.bookingId);
      if (extras.length > 0) {
        ports.alert('duplicate_booking');
        logger.warn(
          { ...fields, alert: true, extra: extras.map((b) => b.bookingId) },
          'late duplicate booking found: cancelling it',
        );
      }
      return emit(
        ...extras.flatMap((b) =>
          compensate(b.bookingId, b.calendarId ?? p.calendarId, null, 'DUPLICATE_BOOKING'),
        ),
      );
    }

    const booking = await ports.provider.get(p.bookingId);
    if (!booking)
      return deadLetter('BOOKING_NOT_FOUND', `the provider no longer knows booking ${p.bookingId}`);
    const late = p.deadline != null && now() >= p.deadline;
    if (booking.status === 'CONFIRMED' && late) {
      // Confirmed, but only after the deadline: the booking is no longer wanted. Record the truth
      // (CONFIRMED), then undo it through the saga.
      ports.alert('late_confirmation');
      logger.warn({ ...fields, deadline: p.deadline }, 'late confirmation: compensating');
      return emit(
        move('CONFIRMED', 'provider confirmed after the deadline'),
        ...compensate(p.bookingId, p.calendarId, 'CONFIRMED', 'LATE_CONFIRMATION'),
      );
    }
    // Still pending when the deadline passed: the reconciler decides (it may confirm late, or undo).
    if (late && booking.status === 'PENDING')
      return deadLetter('DEADLINE_EXCEEDED', 'still pending at the provider when the deadline passed');
    switch (booking.status) {
      case 'CONFIRMED':
        return emit(move('CONFIRMED', 'provider confirmed the pending booking'));
      case 'REJECTED':
      case 'CANCELLED':
        return emit(move('REJECTED', `provider answered ${booking.status}`));
      case 'PENDING': {
        const interval = Math.min(settings.pollMinMs * 2 ** (p.polls + 1), settings.pollMaxMs);
        const next: ProviderPoll = { ...p, polls: p.polls + 1 };
        // Only the pipeline's own headers go on, bounded (issue 12): not whatever a record carried.
        const headers = {
          ...headersToStrings(record.headers),
          [HEADERS.notBefore]: String(now() + interval),
        };
        return emit({ topic: topics.pending, key: p.appointmentId, value: next, headers });
      }
    }
  };
}
