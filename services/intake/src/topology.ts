// Intake at a glance: what it consumes, which handler, what it produces.
//
//   POST /v1/appointments ----------------------> accept --> requested, lifecycle (REQUESTED)
//   appointments.inbound.v1  --[intake.inbound]--> inbound --> requested, lifecycle | dlt
//   GET /v1/appointments/... reads the status projection that audit keeps in Redis
import { TOPIC_NAMES } from '@booking/kit';

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

export const groups = (prefix: string) => ({
  inbound: `${prefix}.inbound`,
  projection: `${prefix}.projection`,
});
