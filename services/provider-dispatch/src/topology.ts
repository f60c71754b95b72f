// provider-dispatch at a glance:
//
//   appointments.requested.v1 + .retry-<delay> --[provider-dispatch.requests]--> dispatch
//       --> lifecycle (DISPATCHING, CONFIRMED | PENDING_PROVIDER | RETRY_SCHEDULED | REJECTED | DEAD_LETTERED)
//       --> requested.retry-<delay> (not-before header; the partition is paused until due)
//       --> pending (a poll of a PENDING booking) | dlt
//   appointments.pending.v1 --[provider-dispatch.polls]--> poll --> lifecycle | pending | dlt
//       | compensation (confirmed only after its deadline: a late confirmation is undone)
import { retryTopicNames, TOPIC_NAMES } from '@booking/kit';
import type { DispatchTopics } from './handlers/dispatch.js';

export const DEFAULT_TOPICS: DispatchTopics = {
  requested: TOPIC_NAMES.requested,
  pending: TOPIC_NAMES.pending,
  lifecycle: TOPIC_NAMES.lifecycle,
  dlt: TOPIC_NAMES.dlt,
  compensation: TOPIC_NAMES.compensation,
};

export function consumedTopics(topics: DispatchTopics, retryDelaysMs: readonly number[]) {
  return {
    requests: [topics.requested, ...retryTopicNames(topics.requested, retryDelaysMs)],
    polls: [topics.pending],
  };
}

export const groups = (prefix: string) => ({ requests: `${prefix}.requests`, polls: `${prefix}.polls` });
