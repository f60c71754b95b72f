// Intake's metrics; names in one place.
import { Counter, METRIC_NAMES, type Registry } from '@booking/kit';

export function intakeMetrics(registry: Registry) {
  return {
    httpRequests: new Counter({
      name: 'intake_http_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['route', 'status'],
      registers: [registry],
    }),
    accepted: new Counter({
      name: 'booking_intake_accepted_total',
      help: 'Requests accepted (REQUESTED emitted), by channel',
      labelNames: ['channel'],
      registers: [registry],
    }),
    acceptFailures: new Counter({
      name: 'booking_intake_accept_failures_total',
      help: 'HTTP requests answered 503 instead of 202, by reason (send-failed, timeout, claim-lost, claim-unsettled)',
      labelNames: ['reason'],
      registers: [registry],
    }),
    idempotencyHits: new Counter({
      name: METRIC_NAMES.idempotencyHits,
      help: 'Requests recognised as repeats of an earlier one, by channel and outcome',
      labelNames: ['channel', 'outcome'],
      registers: [registry],
    }),
  };
}
export type IntakeMetrics = ReturnType<typeof intakeMetrics>;
