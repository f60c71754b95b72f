// One attempt to book one appointment at the provider (a record from appointments.requested.v1 or
// one of its retry topics). Decides what happens; the ports do the I/O, the kit writes the records.
//
// Safety against double booking, in order:
//  1. a lock per appointment: a redelivered record never makes a second concurrent call;
//  2. a marker "already sent to the provider": any attempt after the first (a retry, a redelivery
//     after a crash, an ambiguous timeout or dropped connection) looks the booking up by
//     externalRef first and adopts it, so a second create is made only when none exists.
import {
  type AppointmentState,
  attemptOf,
  type Emit,
  emit,
  HEADERS,
  headerValue,
  type Logger,
  lifecycleEmit,
  type Outcome,
  PipelineError,
  type ProviderBooking,
  type RuntimeRecord,
} from '@booking/kit';
import type { AppointmentRequested, ProviderPoll } from '@booking/schemas';
import type { GuardedOutcome } from '../adapters/circuit.js';
import type { AttemptGuard, DispatchProvider } from '../adapters/ports.js';

export interface DispatchTopics {
  requested: string;
  pending: string;
  lifecycle: string;
  dlt: string;
  compensation: string;
}

export interface DispatchSettings {
  /** Upper bound of one create; the remaining deadline bounds it further. */
  timeoutMs: number;
  pollMinMs: number;
  /** The longest wait before a poll, whatever the provider's answer says (issue 12). */
  pollMaxMs: number;
  /** After an ambiguous attempt: when to look again for a late duplicate booking. */
  duplicateCheckAfterMs: number;
  /** This instance, in the lock's value. */
  instanceId: string;
}

export interface DispatchPorts {
  provider: DispatchProvider;
  attempts: AttemptGuard;
  alert(kind: string): void;
  logger: Logger;
  now(): number;
}

const ACTOR = 'provider-dispatch';

export function dispatchHandler(topics: DispatchTopics, settings: DispatchSettings, ports: DispatchPorts) {
  const { now, logger } = ports;

  return async (record: RuntimeRecord<AppointmentRequested>): Promise<Outcome> => {
    const req = record.value;
    const id = req.appointmentId;
    const attempt = attemptOf(record);
    const from: AppointmentState = record.topic === topics.requested ? 'REQUESTED' : 'RETRY_SCHEDULED';
    const correlationId = headerValue(record.headers, HEADERS.correlationId) ?? req.correlationId;
    const about = { appointmentId: id, correlationId, deadline: req.deadline, firstSeen: req.acceptedAt };
    const traceparent = headerValue(record.headers, HEADERS.traceparent) ?? '';

    const move = (
      f: AppointmentState,
      to: AppointmentState,
      extra: { reason?: string; bookingId?: string | null } = {},
    ): Emit =>
      lifecycleEmit(
        topics.lifecycle,
        {
          appointmentId: id,
          from: f,
          to,
          actor: ACTOR,
          correlationId,
          attempt,
          calendarId: req.calendarId,
          deadline: req.deadline,
          since: req.acceptedAt,
          ...extra,
        },
        { [HEADERS.traceparent]: traceparent },
      );
    const poll = (bookingId: string, retryAfterMs: number, duplicateCheck = false): Emit => {
      const value: ProviderPoll = {
        appointmentId: id,
        bookingId,
        calendarId: req.calendarId,
        deadline: req.deadline,
        polls: 0,
        firstSeenAt: req.acceptedAt,
        correlationId,
        duplicateCheck,
      };
      const wait = duplicateCheck
        ? settings.duplicateCheckAfterMs
        : Math.min(Math.max(retryAfterMs, settings.pollMinMs), settings.pollMaxMs);
      return {
        topic: topics.pending,
        key: id,
        value,
        headers: {
          [HEADERS.correlationId]: correlationId,
          [HEADERS.attempt]: String(attempt),
          [HEADERS.notBefore]: String(now() + wait),
          [HEADERS.firstSeen]: String(req.acceptedAt),
          ...(req.deadline != null ? { [HEADERS.deadline]: String(req.deadline) } : {}),
        },
      };
    };
    /** Not final: another attempt through a retry topic, or the DLT when spent (the kit decides which). */
    const retry = (before: Emit[], reason: string, retryAfterMs?: number, uncalled = false): Outcome => ({
      kind: 'retry',
      reason,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      ...(uncalled ? { uncalled } : {}),
      about,
      emit: before,
      ifRetried: [move('DISPATCHING', 'RETRY_SCHEDULED', { reason })],
      ifExhausted: (deadLetterReason) => [move('DISPATCHING', 'DEAD_LETTERED', { reason: deadLetterReason })],
    });
    const adopt = (booking: ProviderBooking): Emit[] => {
      logger.info(
        { appointmentId: id, correlationId, bookingId: booking.bookingId, status: booking.status },
        'adopted the booking the provider already holds',
      );
      return booking.status === 'CONFIRMED'
        ? [
            move('DISPATCHING', 'CONFIRMED', {
              bookingId: booking.bookingId,
              reason: 'adopted existing booking',
            }),
          ]
        : [
            move('DISPATCHING', 'PENDING_PROVIDER', {
              bookingId: booking.bookingId,
              reason: 'adopted pending booking',
            }),
            poll(booking.bookingId, 0),
          ];
    };
    /** What a create's answer means. */
    const interpret = (before: Emit[], outcome: GuardedOutcome): Outcome => {
      switch (outcome.kind) {
        case 'confirmed':
          return emit(...before, move('DISPATCHING', 'CONFIRMED', { bookingId: outcome.bookingId }));
        case 'pending':
          return emit(
            ...before,
            move('DISPATCHING', 'PENDING_PROVIDER', { bookingId: outcome.bookingId }),
            poll(outcome.bookingId, outcome.retryAfterMs),
          );
        case 'rejected':
          return emit(
            ...before,
            move('DISPATCHING', 'REJECTED', {
              reason: `provider answered ${outcome.status} ${outcome.error}`,
            }),
          );
        case 'auth':
          ports.alert('provider_auth');
          logger.error(
            { alert: true, appointmentId: id, correlationId },
            'provider refused our token (401): configuration fault',
          );
          return retry(before, 'PROVIDER_AUTH');
        case 'rate-limited':
          return retry(before, 'RATE_LIMITED', outcome.retryAfterMs);
        case 'unavailable':
          return retry(before, `PROVIDER_${outcome.status}`);
        case 'timeout':
          return retry(before, 'PROVIDER_TIMEOUT');
        case 'connection':
          return retry(before, 'CONNECTION_LOST');
        case 'circuit-open':
          return retry(before, 'CIRCUIT_OPEN', outcome.retryAfterMs, true);
      }
    };

    const holder = `${settings.instanceId}:${record.topic}:${record.partition}:${record.offset}`;
    const start = await ports.attempts.begin(id, holder, attempt);
    if (start === 'stale') {
      // A later attempt has begun: this one's outcome is committed and superseded (read again after
      // a crash or a rebalance). Whatever it emitted then stands; now it emits nothing.
      logger.info({ appointmentId: id, correlationId, attempt }, 'stale attempt read again: nothing to do');
      return emit();
    }
    if (start === 'busy') {
      // Another consumer is calling the provider for this appointment right now: come back later.
      throw new PipelineError('IDEMPOTENCY_CONFLICT', `appointment ${id} is being dispatched elsewhere`, {
        retryable: true,
      });
    }
    try {
      if (req.deadline != null && now() >= req.deadline) {
        return {
          kind: 'dead-letter',
          reason: 'DEADLINE_EXCEEDED',
          message: 'the deadline passed before the booking could be made',
          about,
          emit: [move(from, 'DEAD_LETTERED', { reason: 'DEADLINE_EXCEEDED' })],
        };
      }
      const before: Emit[] = [move(from, 'DISPATCHING')];
      if (start === 'again') {
        let existing: ProviderBooking[];
        try {
          existing = await ports.provider.lookup(id);
        } catch (err) {
          logger.warn(
            { appointmentId: id, correlationId, err: (err as Error).message },
            'look-up before re-create failed',
          );
          return retry(before, 'LOOKUP_FAILED');
        }
        const live = existing.filter((b) => b.status === 'CONFIRMED' || b.status === 'PENDING');
        if (live.length > 1) {
          ports.alert('duplicate_booking');
          logger.error(
            { alert: true, appointmentId: id, correlationId, bookingIds: live.map((b) => b.bookingId) },
            'provider holds more than one live booking for this appointment',
          );
        }
        const chosen = live.find((b) => b.status === 'CONFIRMED') ?? live[0];
        // An earlier attempt was ambiguous: a request of it may still land after this look-up.
        if (chosen) return emit(...before, ...adopt(chosen), poll(chosen.bookingId, 0, true));
        const rejected = existing.find((b) => b.status === 'REJECTED');
        if (rejected)
          return emit(
            ...before,
            move('DISPATCHING', 'REJECTED', {
              bookingId: rejected.bookingId,
              reason: 'provider rejected the booking',
            }),
          );
      }

      const remaining = req.deadline != null ? req.deadline - now() : Number.POSITIVE_INFINITY;
      const outcome = await ports.provider.create(
        {
          externalRef: id,
          calendarId: req.calendarId,
          slot: req.slot,
          patient: { ref: req.patient.id, displayName: req.patient.name },
          ...(req.reason ? { reason: req.reason } : {}),
        },
        Math.max(1, Math.min(settings.timeoutMs, remaining)),
        id,
      );
      const decided = interpret(before, outcome);
      // Not the first create: an earlier, ambiguous one (timed out, answer lost) may still commit
      // at the provider after this one. Look once more when it no longer can, and cancel extras.
      if (
        start === 'again' &&
        (outcome.kind === 'confirmed' || outcome.kind === 'pending') &&
        decided.kind === 'emit'
      )
        decided.emit.push(poll(outcome.bookingId, 0, true));
      return decided;
    } finally {
      await ports.attempts.end(id, holder);
    }
  };
}
