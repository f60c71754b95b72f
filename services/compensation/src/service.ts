// Composition root of compensation, used by main.ts and by the tests.
import {
  buildService,
  Counter,
  createServiceContext,
  providerClientOf,
  retryPolicyOf,
  type ServiceHandle,
  type ServiceOptions,
} from '@booking/kit';
import type { CompensationConfig } from './config.js';
import { type CompensationTopics, compensateHandler } from './handlers/compensate.js';
import { compensationTopology, DEFAULT_TOPICS } from './topology.js';

export type CompensationService = ServiceHandle;

export function createCompensation(
  config: CompensationConfig,
  { topics = DEFAULT_TOPICS, logger }: ServiceOptions<CompensationTopics> = {},
): CompensationService {
  const ctx = createServiceContext(config, logger);
  const provider = providerClientOf(config);
  const outcomes = new Counter({
    name: 'booking_compensations_total',
    help: 'Cancels at the provider, by outcome (cancelled, not-found, failed)',
    labelNames: ['outcome'],
    registers: [ctx.registry],
  });
  const service = buildService(ctx, compensationTopology(topics, retryPolicyOf(config)), {
    groupPrefix: config.GROUP_PREFIX,
    handlers: {
      commands: compensateHandler(topics, {
        cancel: (bookingId) => provider.cancel(bookingId),
        count: (outcome) => outcomes.inc({ outcome }),
      }),
    },
    listen: { host: config.COMPENSATION_HTTP_HOST, port: config.COMPENSATION_HTTP_PORT },
    shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
  });
  return service;
}
