// provider-dispatch: books each requested appointment at the provider and follows pending ones.
// What it consumes, which handler, what it may produce.
import { type RetryPolicy, serviceTopology, TOPIC_NAMES } from '@booking/kit';
import type { DispatchTopics } from './handlers/dispatch.js';

export const DEFAULT_TOPICS: DispatchTopics = {
  requested: TOPIC_NAMES.requested,
  pending: TOPIC_NAMES.pending,
  lifecycle: TOPIC_NAMES.lifecycle,
  dlt: TOPIC_NAMES.dlt,
  compensation: TOPIC_NAMES.compensation,
};

export const dispatchTopology = (t: DispatchTopics, retry: RetryPolicy) =>
  serviceTopology({
    service: 'provider-dispatch',
    consumers: {
      requests: {
        group: 'requests',
        reads: t.requested,
        schema: 'AppointmentRequested',
        handler: 'dispatch',
        doc: 'one create at the provider (a later attempt looks up and adopts first): DISPATCHING -> CONFIRMED | PENDING_PROVIDER (+ a poll) | REJECTED | RETRY_SCHEDULED | DEAD_LETTERED',
        writes: [t.lifecycle, t.pending],
        retry,
        deadLetters: t.dlt,
      },
      polls: {
        group: 'polls',
        reads: t.pending,
        schema: 'ProviderPoll',
        handler: 'poll',
        doc: 'a pending booking comes due: CONFIRMED | REJECTED | poll again later | DEAD_LETTERED; a confirmation after the deadline or a late duplicate is compensated',
        writes: [t.lifecycle, t.pending, t.compensation],
        // Each poll waits for its x-not-before.
        delayed: true,
        deadLetters: t.dlt,
      },
    },
  });
