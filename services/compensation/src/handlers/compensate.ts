// Cancel one provider booking (DELETE), the saga's undo step. Idempotent: cancelling again answers
// the same, and an unknown booking has nothing left to undo. A provider failure retries through the
// compensation retry topics; when the attempts are spent the command goes to a dead-letter topic
// of its own with an alert: the appointment stays COMPENSATING, visibly, for a person.
import {
  type Counter,
  deadLetterEmit,
  type Emit,
  HEADERS,
  headerNumber,
  isTransient,
  type Logger,
  lifecycleEmit,
  type ProviderClient,
  type RetryPolicy,
  type RuntimeRecord,
  routeRetry,
} from '@booking/kit';
import type { CompensationCommand } from '@booking/schemas';

export interface CompensationTopics {
  compensation: string;
  compensationDlt: string;
  lifecycle: string;
}

export interface CompensateDeps {
  provider: ProviderClient;
  topics: CompensationTopics;
  retry: RetryPolicy;
  logger: Logger;
  metrics: { outcomes: Counter<'outcome'>; alerts: Counter<'kind'> };
  now?: () => number;
}

export function compensateHandler(deps: CompensateDeps) {
  const now = deps.now ?? Date.now;
  return async (r: RuntimeRecord<CompensationCommand>): Promise<Emit[]> => {
    const c = r.value;
    const attempt = headerNumber(r.headers, HEADERS.attempt) ?? 1;
    const log = deps.logger.child({
      appointmentId: c.appointmentId,
      correlationId: c.correlationId,
      bookingId: c.bookingId,
      attempt,
      cause: c.cause,
    });
    // A duplicate booking is cancelled without touching the appointment's own state.
    const settle = (reason: string): Emit[] =>
      c.cause === 'DUPLICATE_BOOKING'
        ? []
        : [
            lifecycleEmit(deps.topics.lifecycle, {
              appointmentId: c.appointmentId,
              from: 'COMPENSATING',
              to: 'COMPENSATED',
              actor: 'compensation',
              correlationId: c.correlationId,
              attempt,
              bookingId: c.bookingId,
              calendarId: c.calendarId,
              reason,
            }),
          ];
    try {
      const cancelled = await deps.provider.cancel(c.bookingId);
      deps.metrics.outcomes.inc({ outcome: cancelled ? 'cancelled' : 'not-found' });
      log.info(
        { to: 'COMPENSATED', cancelled },
        cancelled ? 'booking cancelled' : 'booking unknown at the provider: nothing to cancel',
      );
      return settle(
        cancelled
          ? `booking ${c.bookingId} cancelled (${c.cause})`
          : `booking ${c.bookingId} not found at the provider`,
      );
    } catch (err) {
      if (!isTransient(err)) throw err;
      const route = routeRetry({
        record: r,
        policy: deps.retry,
        sourceTopic: deps.topics.compensation,
        attempt,
        key: c.appointmentId,
        value: c,
        correlationId: c.correlationId,
        firstSeen: c.requestedAt,
        errorClass: (err as Error).name,
        errorMessage: (err as Error).message,
        now: now(),
      });
      if (route.kind === 'dead-letter') {
        deps.metrics.outcomes.inc({ outcome: 'dead-lettered' });
        deps.metrics.alerts.inc({ kind: 'compensation_failed' });
        log.error(
          { alert: true, err: (err as Error).message },
          'compensation could not complete: dead-lettered, needs a person',
        );
        return [
          deadLetterEmit({
            dltTopic: deps.topics.compensationDlt,
            source: r.source,
            reason: 'COMPENSATION_FAILED',
            error: err,
            appointmentId: c.appointmentId,
            attempts: attempt,
            correlationId: c.correlationId,
          }),
        ];
      }
      deps.metrics.outcomes.inc({ outcome: 'retry' });
      log.warn({ err: (err as Error).message, nextAttempt: route.nextAttempt }, 'cancel failed; retrying');
      return [route.emit];
    }
  };
}
