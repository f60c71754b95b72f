// One attempt to book one appointment at the provider (a record from appointments.requested.v1 or
// one of its retry topics). Returns the records to emit; never touches Kafka itself.
//
// Safety against double booking, in order:
//  1. a Redis lock per appointment: a redelivered record never makes a second concurrent call;
//  2. a Redis marker "already sent to the provider": any attempt after the first (a retry, a
//     redelivery after a crash, an ambiguous timeout or dropped connection) looks the booking up by
//     externalRef first and adopts it, so a second create is made only when none exists.
import {
  type AppointmentState,
  type CreateOutcome,
  claim,
  deadLetterEmit,
  type Emit,
  HEADERS,
  headerNumber,
  headerValue,
  type Logger,
  lifecycleEmit,
  PipelineError,
  type ProviderBooking,
  type ProviderClient,
  type RetryPolicy,
  type RuntimeRecord,
  releaseClaim,
  routeRetry,
} from '@booking/kit';
import type { AppointmentRequested, ProviderPoll } from '@booking/schemas';
import type { Redis } from 'ioredis';
import type { GuardedOutcome, ProviderCircuit } from '../adapters/circuit.js';
import type { DispatchMetrics } from '../metrics.js';

export interface DispatchTopics {
  requested: string;
  pending: string;
  lifecycle: string;
  dlt: string;
  compensation: string;
}

export interface DispatchDeps {
  redis: Redis;
  provider: ProviderClient;
  circuit: ProviderCircuit;
  topics: DispatchTopics;
  retry: RetryPolicy;
  timeoutMs: number;
  markerTtlMs: number;
  pollMinMs: number;
  /** The longest wait before a poll, whatever the provider's answer says (issue 12). */
  pollMaxMs?: number;
  /** After an ambiguous attempt: when to look again for a late duplicate booking. */
  duplicateCheckAfterMs: number;
  instanceId: string;
  logger: Logger;
  metrics: DispatchMetrics;
  now?: () => number;
}

const ACTOR = 'provider-dispatch';

export function dispatchHandler(deps: DispatchDeps) {
  const now = deps.now ?? Date.now;

  return async (record: RuntimeRecord<AppointmentRequested>): Promise<Emit[]> => {
    const req = record.value;
    const id = req.appointmentId;
    const attempt = headerNumber(record.headers, HEADERS.attempt) ?? 1;
    const from: AppointmentState = record.topic === deps.topics.requested ? 'REQUESTED' : 'RETRY_SCHEDULED';
    const correlationId = headerValue(record.headers, HEADERS.correlationId) ?? req.correlationId;
    const log = deps.logger.child({
      appointmentId: id,
      correlationId,
      attempt,
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
    });
    const { source } = record;

    const move = (
      f: AppointmentState,
      to: AppointmentState,
      extra: { reason?: string; bookingId?: string | null } = {},
    ): Emit => {
      deps.metrics.transitions.inc({ to });
      log.info({ from: f, to, reason: extra.reason, bookingId: extra.bookingId }, `${f} -> ${to}`);
      if (to === 'CONFIRMED' || to === 'REJECTED')
        deps.metrics.endToEnd.observe({ to }, (now() - req.acceptedAt) / 1000);
      return lifecycleEmit(
        deps.topics.lifecycle,
        {
          appointmentId: id,
          from: f,
          to,
          actor: ACTOR,
          correlationId,
          attempt,
          calendarId: req.calendarId,
          deadline: req.deadline,
          ...extra,
        },
        { [HEADERS.traceparent]: headerValue(record.headers, HEADERS.traceparent) ?? '' },
      );
    };
    const deadLetter = (f: AppointmentState, reason: string, error: unknown): Emit[] => {
      deps.metrics.deadLetters.inc({ reason });
      log.warn({ reason }, 'dead-lettered for reconciliation');
      return [
        deadLetterEmit({
          dltTopic: deps.topics.dlt,
          source,
          reason,
          error,
          appointmentId: id,
          attempts: attempt,
          deadline: req.deadline,
          correlationId,
        }),
        move(f, 'DEAD_LETTERED', { reason }),
      ];
    };
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
      return {
        topic: deps.topics.pending,
        key: id,
        value,
        headers: {
          [HEADERS.correlationId]: correlationId,
          [HEADERS.attempt]: String(attempt),
          [HEADERS.notBefore]: String(
            now() +
              (duplicateCheck
                ? deps.duplicateCheckAfterMs
                : Math.min(Math.max(retryAfterMs, deps.pollMinMs), deps.pollMaxMs ?? 30_000)),
          ),
          [HEADERS.firstSeen]: String(req.acceptedAt),
          ...(req.deadline != null ? { [HEADERS.deadline]: String(req.deadline) } : {}),
        },
      };
    };
    /** The outcome is not final: another attempt through a retry topic, or the DLT when spent. */
    const retry = (reason: string, retryAfterMs?: number): Emit[] => {
      const route = routeRetry({
        record,
        policy: deps.retry,
        sourceTopic: deps.topics.requested,
        attempt,
        key: id,
        value: req,
        correlationId,
        firstSeen: req.acceptedAt,
        deadline: req.deadline,
        errorClass: reason,
        errorMessage: reason,
        retryAfterMs,
        now: now(),
      });
      if (route.kind === 'dead-letter')
        return deadLetter('DISPATCHING', route.reason, new Error(route.message));
      deps.metrics.retries.inc({ reason });
      return [move('DISPATCHING', 'RETRY_SCHEDULED', { reason }), route.emit];
    };
    const adopt = (booking: ProviderBooking): Emit[] => {
      log.info(
        { bookingId: booking.bookingId, status: booking.status },
        'adopted the booking the provider already holds',
      );
      if (booking.status === 'CONFIRMED')
        return [
          move('DISPATCHING', 'CONFIRMED', {
            bookingId: booking.bookingId,
            reason: 'adopted existing booking',
          }),
        ];
      return [
        move('DISPATCHING', 'PENDING_PROVIDER', {
          bookingId: booking.bookingId,
          reason: 'adopted pending booking',
        }),
        poll(booking.bookingId, 0),
      ];
    };

    if (req.deadline != null && now() >= req.deadline) {
      return deadLetter(
        from,
        'DEADLINE_EXCEEDED',
        new Error('the deadline passed before the booking could be made'),
      );
    }

    const lockKey = `lock:dispatch:${id}`;
    const lockValue = `${deps.instanceId}:${record.topic}:${record.partition}:${record.offset}`;
    const lock = await claim(deps.redis, lockKey, lockValue, deps.timeoutMs + 5000);
    if (!lock.won) {
      // Another consumer is calling the provider for this appointment right now: come back later.
      throw new PipelineError('IDEMPOTENCY_CONFLICT', `appointment ${id} is being dispatched elsewhere`, {
        retryable: true,
      });
    }
    try {
      const emits: Emit[] = [move(from, 'DISPATCHING')];
      const marker = await claim(deps.redis, `idem:dispatch:${id}`, String(now()), deps.markerTtlMs);
      if (!marker.won) {
        const timer = deps.metrics.providerLatency.startTimer({ op: 'lookup' });
        let existing: ProviderBooking[];
        try {
          existing = await deps.provider.findByExternalRef(id);
          deps.metrics.providerCalls.inc({ op: 'lookup', outcome: 'ok' });
        } catch (err) {
          deps.metrics.providerCalls.inc({ op: 'lookup', outcome: 'failed' });
          log.warn({ err: (err as Error).message }, 'look-up before re-create failed');
          return [...emits, ...retry('LOOKUP_FAILED')];
        } finally {
          timer();
        }
        const live = existing.filter((b) => b.status === 'CONFIRMED' || b.status === 'PENDING');
        if (live.length > 1) {
          deps.metrics.alerts.inc({ kind: 'duplicate_booking' });
          log.error(
            { alert: true, bookingIds: live.map((b) => b.bookingId) },
            'provider holds more than one live booking for this appointment',
          );
        }
        const chosen = live.find((b) => b.status === 'CONFIRMED') ?? live[0];
        // An earlier attempt was ambiguous: a request of it may still land after this look-up.
        if (chosen) return [...emits, ...adopt(chosen), poll(chosen.bookingId, 0, true)];
        const rejected = existing.find((b) => b.status === 'REJECTED');
        if (rejected)
          return [
            ...emits,
            move('DISPATCHING', 'REJECTED', {
              bookingId: rejected.bookingId,
              reason: 'provider rejected the booking',
            }),
          ];
      }

      const remaining = req.deadline != null ? req.deadline - now() : Number.POSITIVE_INFINITY;
      const timeoutMs = Math.max(1, Math.min(deps.timeoutMs, remaining));
      const timer = deps.metrics.providerLatency.startTimer({ op: 'create' });
      const outcome: GuardedOutcome = await deps.circuit.run(() =>
        deps.provider.create(
          {
            externalRef: id,
            calendarId: req.calendarId,
            slot: req.slot,
            patient: { ref: req.patient.id, displayName: req.patient.name },
            ...(req.reason ? { reason: req.reason } : {}),
          },
          timeoutMs,
          id,
        ),
      );
      if (outcome.kind !== 'circuit-open') timer();
      deps.metrics.providerCalls.inc({ op: 'create', outcome: outcome.kind });
      const out = [...emits, ...interpret(outcome)];
      // Not the first create: an earlier, ambiguous one (timed out, answer lost) may still commit
      // at the provider after this one. Look once more when it no longer can, and cancel extras.
      if (!marker.won && (outcome.kind === 'confirmed' || outcome.kind === 'pending'))
        out.push(poll(outcome.bookingId, 0, true));
      return out;
    } finally {
      await releaseClaim(deps.redis, lockKey, lockValue).catch(() => false);
    }

    function interpret(outcome: GuardedOutcome | CreateOutcome): Emit[] {
      switch (outcome.kind) {
        case 'confirmed':
          return [move('DISPATCHING', 'CONFIRMED', { bookingId: outcome.bookingId })];
        case 'pending':
          return [
            move('DISPATCHING', 'PENDING_PROVIDER', { bookingId: outcome.bookingId }),
            poll(outcome.bookingId, outcome.retryAfterMs),
          ];
        case 'rejected':
          return [
            move('DISPATCHING', 'REJECTED', {
              reason: `provider answered ${outcome.status} ${outcome.error}`,
            }),
          ];
        case 'auth':
          deps.metrics.alerts.inc({ kind: 'provider_auth' });
          log.error({ alert: true }, 'provider refused our token (401): configuration fault');
          return retry('PROVIDER_AUTH');
        case 'rate-limited':
          return retry('RATE_LIMITED', outcome.retryAfterMs);
        case 'unavailable':
          return retry(`PROVIDER_${outcome.status}`);
        case 'timeout':
          return retry('PROVIDER_TIMEOUT');
        case 'connection':
          return retry('CONNECTION_LOST');
        case 'circuit-open':
          return retry('CIRCUIT_OPEN');
      }
    }
  };
}
