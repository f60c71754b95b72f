// Intake at a glance: what it consumes, which handler, what it produces.
//
//   POST /v1/appointments ----------------------> accept --> requested, lifecycle (REQUESTED)
//   appointments.inbound.v1  --[intake.inbound]--> inbound --> requested, lifecycle | dlt
//   appointments.lifecycle.v1 --[intake.projection]--> projection (Redis apt:<id>; audit owns it from issue 4)
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
