// compensation, the saga's undo step: what it consumes, which handler, what it may produce.
import { type RetryPolicy, serviceTopology, TOPIC_NAMES } from '@booking/kit';
import type { CompensationTopics } from './handlers/compensate.js';

export const DEFAULT_TOPICS: CompensationTopics = {
  compensation: TOPIC_NAMES.compensation,
  compensationDlt: TOPIC_NAMES.compensationDlt,
  lifecycle: TOPIC_NAMES.lifecycle,
};

export const compensationTopology = (t: CompensationTopics, retry: RetryPolicy) =>
  serviceTopology({
    service: 'compensation',
    consumers: {
      commands: {
        group: 'commands',
        reads: t.compensation,
        schema: 'CompensationCommand',
        handler: 'compensate',
        doc: 'cancel one provider booking; COMPENSATING -> COMPENSATED (a duplicate booking: state untouched)',
        writes: [t.lifecycle],
        retry,
        // Spent attempts: its own dead-letter topic and an alert; the appointment stays COMPENSATING.
        deadLetters: t.compensationDlt,
        poisonAlert: 'compensation_failed',
      },
    },
  });
