// A PENDING booking comes due (appointments.pending.v1): ask the provider where it stands.
// CONFIRMED / REJECTED settle it; still PENDING polls again later with a growing interval;
// a passed deadline or a booking the provider no longer knows goes to the DLT for reconciliation.
import {
  deadLetterEmit,
  type Emit,
  HEADERS,
  headerNumber,
  headersToStrings,
  type Logger,
  lifecycleEmit,
  type ProviderClient,
  type RuntimeRecord,
  startCompensation,
} from '@booking/kit';
import type { ProviderPoll } from '@booking/schemas';
import type { DispatchMetrics } from '../metrics.js';
import type { DispatchTopics } from './dispatch.js';

export interface PollDeps {
  provider: ProviderClient;
  topics: DispatchTopics;
  pollMinMs: number;
  pollMaxMs: number;
  logger: Logger;
  metrics: DispatchMetrics;
  now?: () => number;
}

export function pollHandler(deps: PollDeps) {
  const now = deps.now ?? Date.now;
  return async (record: RuntimeRecord<ProviderPoll>): Promise<Emit[]> => {
    const p = record.value;
    const attempt = headerNumber(record.headers, HEADERS.attempt) ?? 1;
    const log = deps.logger.child({
      appointmentId: p.appointmentId,
      correlationId: p.correlationId,
      bookingId: p.bookingId,
      polls: p.polls,
    });
    const move = (to: 'CONFIRMED' | 'REJECTED' | 'DEAD_LETTERED', reason: string): Emit => {
      deps.metrics.transitions.inc({ to });
      log.info({ from: 'PENDING_PROVIDER', to, reason }, `PENDING_PROVIDER -> ${to}`);
      if (to !== 'DEAD_LETTERED') deps.metrics.endToEnd.observe({ to }, (now() - p.firstSeenAt) / 1000);
      return lifecycleEmit(deps.topics.lifecycle, {
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
      });
    };
    const deadLetter = (reason: string, message: string): Emit[] => {
      deps.metrics.deadLetters.inc({ reason });
      return [
        deadLetterEmit({
          dltTopic: deps.topics.dlt,
          source: record.source,
          reason,
          error: new Error(message),
          appointmentId: p.appointmentId,
          attempts: attempt,
          deadline: p.deadline,
          correlationId: p.correlationId,
        }),
        move('DEAD_LETTERED', reason),
      ];
    };

    // A provider failure here throws a retryable error: the runtime keeps the record and polls again.
    if (p.duplicateCheck) {
      // Once more after an ambiguous attempt: any live booking beyond the one kept is a duplicate
      // that a late request made; cancel it, leaving the appointment's own state alone.
      const live = (await deps.provider.findByExternalRef(p.appointmentId)).filter(
        (b) => b.status === 'CONFIRMED' || b.status === 'PENDING',
      );
      const extras = live.filter((b) => b.bookingId !== p.bookingId);
      if (extras.length > 0) {
        deps.metrics.alerts.inc({ kind: 'duplicate_booking' });
        log.warn(
          { alert: true, extra: extras.map((b) => b.bookingId) },
          'late duplicate booking found: cancelling it',
        );
      }
      return extras.flatMap((b) =>
        startCompensation({
          lifecycleTopic: deps.topics.lifecycle,
          compensationTopic: deps.topics.compensation,
          appointmentId: p.appointmentId,
          bookingId: b.bookingId,
          calendarId: b.calendarId ?? p.calendarId,
          from: null,
          cause: 'DUPLICATE_BOOKING',
          correlationId: p.correlationId,
          actor: 'provider-dispatch',
          attempt,
          now: now(),
        }),
      );
    }

    const booking = await deps.provider.get(p.bookingId);
    deps.metrics.providerCalls.inc({ op: 'get', outcome: booking?.status ?? 'not-found' });
    if (!booking)
      return deadLetter('BOOKING_NOT_FOUND', `the provider no longer knows booking ${p.bookingId}`);
    const late = p.deadline != null && now() >= p.deadline;
    if (booking.status === 'CONFIRMED' && late) {
      // Confirmed, but only after the deadline: the booking is no longer wanted. Record the truth
      // (CONFIRMED), then undo it through the saga.
      deps.metrics.alerts.inc({ kind: 'late_confirmation' });
      log.warn({ deadline: p.deadline }, 'late confirmation: compensating');
      return [
        move('CONFIRMED', 'provider confirmed after the deadline'),
        ...startCompensation({
          lifecycleTopic: deps.topics.lifecycle,
          compensationTopic: deps.topics.compensation,
          appointmentId: p.appointmentId,
          bookingId: p.bookingId,
          calendarId: p.calendarId,
          from: 'CONFIRMED',
          cause: 'LATE_CONFIRMATION',
          correlationId: p.correlationId,
          actor: 'provider-dispatch',
          attempt,
          now: now(),
        }),
      ];
    }
    // Still pending when the deadline passed: the reconciler decides (it may confirm late, or undo).
    if (late && booking.status === 'PENDING') {
      return deadLetter('DEADLINE_EXCEEDED', 'still pending at the provider when the deadline passed');
    }
    switch (booking.status) {
      case 'CONFIRMED':
        return [move('CONFIRMED', 'provider confirmed the pending booking')];
      case 'REJECTED':
      case 'CANCELLED':
        return [move('REJECTED', `provider answered ${booking.status}`)];
      case 'PENDING': {
        const interval = Math.min(deps.pollMinMs * 2 ** (p.polls + 1), deps.pollMaxMs);
        const next: ProviderPoll = { ...p, polls: p.polls + 1 };
        // Only the pipeline's own headers go on, bounded (issue 12): not whatever a record carried.
        const headers = {
          ...headersToStrings(record.headers),
          [HEADERS.notBefore]: String(now() + interval),
        };
        return [{ topic: deps.topics.pending, key: p.appointmentId, value: next, headers }];
      }
    }
  };
}
