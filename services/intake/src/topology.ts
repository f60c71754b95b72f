// Intake, the door: what it consumes, which handler, what it may produce.
import { serviceTopology, TOPIC_NAMES } from '@booking/kit';

export interface IntakeTopics {
  inbound: string;
  requested: string;
  lifecycle: string;
  dlt: string;
}

export const DEFAULT_TOPICS: IntakeTopics = {
  inbound: TOPIC_NAMES.inbound,
  requested: TOPIC_NAMES.requested,
  lifecycle: TOPIC_NAMES.lifecycle,
  dlt: TOPIC_NAMES.dlt,
};

export const intakeTopology = (t: IntakeTopics) =>
  serviceTopology({
    service: 'intake',
    consumers: {
      inbound: {
        group: 'inbound',
        reads: t.inbound,
        schema: 'InboundRequest',
        handler: 'inbound',
        doc: 'validate, claim the idempotency key, accept: AppointmentRequested + REQUESTED (a repeat: nothing; invalid or a reused key with another body: dead letter)',
        writes: [t.requested, t.lifecycle],
        deadLetters: t.dlt,
      },
    },
    // POST /v1/appointments: the same acceptance, answered 202 once its transaction has committed.
    senders: { kafka: [t.requested, t.lifecycle] },
    http: 'POST /v1/appointments (202 once committed), GET /v1/appointments/:id and /by-key/:key (the status projection audit keeps)',
  });
