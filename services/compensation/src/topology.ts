// compensation at a glance:
//   appointments.compensation.v1 + .retry-<delay> --[compensation.commands]--> compensate
//       --> lifecycle (COMPENSATING -> COMPENSATED) | compensation.v1.retry-<delay> | compensation-dlt.v1 (+ alert)
import { retryTopicNames, TOPIC_NAMES } from '@booking/kit';
import type { CompensationTopics } from './handlers/compensate.js';

export const DEFAULT_TOPICS: CompensationTopics = {
  compensation: TOPIC_NAMES.compensation,
  compensationDlt: TOPIC_NAMES.compensationDlt,
  lifecycle: TOPIC_NAMES.lifecycle,
};

export const consumedTopics = (t: CompensationTopics, delays: readonly number[]) => [
  t.compensation,
  ...retryTopicNames(t.compensation, delays),
];
export const groups = (prefix: string) => ({ commands: `${prefix}.commands` });
