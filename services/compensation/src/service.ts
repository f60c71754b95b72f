// Composition root of compensation, used by main.ts and by the tests.
import {
  alertsCounter,
  buildOpsServer,
  Counter,
  createServiceContext,
  deadLetterEmit,
  type Logger,
  ProviderClient,
} from '@booking/kit';
import type { CompensationCommand } from '@booking/schemas';
import type { FastifyInstance } from 'fastify';
import type { CompensationConfig } from './config.js';
import { type CompensationTopics, compensateHandler } from './handlers/compensate.js';
import { consumedTopics, DEFAULT_TOPICS, groups } from './topology.js';

export interface CompensationService {
  ops: FastifyInstance;
  logger: Logger;
  start(): Promise<string>;
  stop(): Promise<void>;
}

export function createCompensation(
  config: CompensationConfig,
  { topics = DEFAULT_TOPICS, logger }: { topics?: CompensationTopics; logger?: Logger } = {},
): CompensationService {
  const ctx = createServiceContext(config, logger);
  const { log, registry } = ctx;
  const provider = new ProviderClient({
    baseUrl: config.PROVIDER_URL,
    token: config.PROVIDER_TOKEN,
    timeoutMs: config.PROVIDER_TIMEOUT_MS,
  });
  const metrics = {
    outcomes: new Counter({
      name: 'booking_compensations_total',
      help: 'Compensation outcomes',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    alerts: alertsCounter(registry),
  };
  const runtime = ctx.consumer<CompensationCommand>({
    name: 'commands',
    groupId: groups(config.GROUP_PREFIX).commands,
    topics: consumedTopics(topics, config.RETRY_DELAYS_MS),
    schema: 'CompensationCommand',
    honourNotBefore: true,
    maxWaitTimeInMs: 200,
    handle: compensateHandler({
      provider,
      topics,
      retry: {
        delaysMs: config.RETRY_DELAYS_MS,
        maxAttempts: config.MAX_ATTEMPTS,
        jitter: config.RETRY_JITTER,
      },
      logger: log,
      metrics,
    }),
    onPoison: (source, error, reason) => {
      metrics.alerts.inc({ kind: 'compensation_failed' });
      return [deadLetterEmit({ dltTopic: topics.compensationDlt, source, reason, error })];
    },
  });
  const ops = buildOpsServer({
    registry,
    health: async () => ({ consumer: runtime.health() }),
  });
  return {
    ops,
    logger: log,
    async start() {
      await runtime.start();
      return ops.listen({ host: config.COMPENSATION_HTTP_HOST, port: config.COMPENSATION_HTTP_PORT });
    },
    async stop() {
      await runtime.stop(config.SHUTDOWN_TIMEOUT_MS);
      await ops.close();
    },
  };
}
