// Composition root of provider-dispatch, used by main.ts and by the tests.
import { randomUUID } from 'node:crypto';
import {
  buildOpsServer,
  createServiceContext,
  deadLetterEmit,
  type Logger,
  ProviderClient,
} from '@booking/kit';
import type { AppointmentRequested, ProviderPoll } from '@booking/schemas';
import type { FastifyInstance } from 'fastify';
import { createCircuit, type ProviderCircuit } from './adapters/circuit.js';
import type { DispatchConfig } from './config.js';
import { type DispatchTopics, dispatchHandler } from './handlers/dispatch.js';
import { pollHandler } from './handlers/poll.js';
import { dispatchMetrics } from './metrics.js';
import { consumedTopics, DEFAULT_TOPICS, groups } from './topology.js';

export interface DispatchService {
  ops: FastifyInstance;
  logger: Logger;
  circuit: ProviderCircuit;
  start(): Promise<string>;
  stop(): Promise<void>;
}

export function createDispatch(
  config: DispatchConfig,
  { topics = DEFAULT_TOPICS, logger }: { topics?: DispatchTopics; logger?: Logger } = {},
): DispatchService {
  const ctx = createServiceContext(config, logger);
  const { log, registry, redis } = ctx;
  const metrics = dispatchMetrics(registry);
  const provider = new ProviderClient({
    baseUrl: config.PROVIDER_URL,
    token: config.PROVIDER_TOKEN,
    timeoutMs: config.PROVIDER_TIMEOUT_MS,
  });
  const circuit = createCircuit({
    provider: new URL(config.PROVIDER_URL).host,
    failureRate: config.CIRCUIT_FAILURE_RATE,
    window: config.CIRCUIT_WINDOW,
    minCalls: Math.min(config.CIRCUIT_MIN_CALLS, config.CIRCUIT_WINDOW),
    halfOpenAfterMs: config.CIRCUIT_HALF_OPEN_AFTER_MS,
    logger: log,
    metrics,
  });
  const consumed = consumedTopics(topics, config.RETRY_DELAYS_MS);
  const group = groups(config.GROUP_PREFIX);
  const onPoison = (
    source: Parameters<typeof deadLetterEmit>[0]['source'],
    error: unknown,
    reason: string,
  ) => {
    metrics.deadLetters.inc({ reason });
    return [deadLetterEmit({ dltTopic: topics.dlt, source, reason, error })];
  };

  const requests = ctx.consumer<AppointmentRequested>({
    name: 'requests',
    groupId: group.requests,
    topics: consumed.requests,
    schema: 'AppointmentRequested',
    honourNotBefore: true,
    maxWaitTimeInMs: 200,
    partitionsConsumedConcurrently: config.PARTITIONS_CONCURRENCY,
    keyConcurrency: config.KEY_CONCURRENCY,
    handle: dispatchHandler({
      redis,
      provider,
      circuit,
      topics,
      retry: {
        delaysMs: config.RETRY_DELAYS_MS,
        maxAttempts: config.MAX_ATTEMPTS,
        jitter: config.RETRY_JITTER,
      },
      timeoutMs: config.PROVIDER_TIMEOUT_MS,
      markerTtlMs: config.ATTEMPT_MARKER_TTL_MS,
      pollMinMs: config.PENDING_POLL_MIN_MS,
      pollMaxMs: config.PENDING_POLL_MAX_MS,
      duplicateCheckAfterMs: config.DUPLICATE_CHECK_AFTER_MS,
      instanceId: randomUUID(),
      logger: log,
      metrics,
    }),
    onPoison,
  });
  const polls = ctx.consumer<ProviderPoll>({
    name: 'polls',
    groupId: group.polls,
    topics: consumed.polls,
    schema: 'ProviderPoll',
    honourNotBefore: true,
    maxWaitTimeInMs: 200,
    partitionsConsumedConcurrently: config.PARTITIONS_CONCURRENCY,
    keyConcurrency: config.KEY_CONCURRENCY,
    handle: pollHandler({
      provider,
      topics,
      pollMinMs: config.PENDING_POLL_MIN_MS,
      pollMaxMs: config.PENDING_POLL_MAX_MS,
      logger: log,
      metrics,
    }),
    onPoison,
  });

  const ops = buildOpsServer({
    registry,
    health: async () => ({
      schemaRegistry: await ctx.registryUp(),
      redis: await ctx.redisUp(),
      requestsConsumer: requests.health(),
      pollsConsumer: polls.health(),
    }),
  });

  return {
    ops,
    logger: log,
    circuit,
    async start() {
      await Promise.all([requests.start(), polls.start()]);
      return ops.listen({ host: config.DISPATCH_HTTP_HOST, port: config.DISPATCH_HTTP_PORT });
    },
    async stop() {
      await Promise.all([requests.stop(config.SHUTDOWN_TIMEOUT_MS), polls.stop(config.SHUTDOWN_TIMEOUT_MS)]);
      await ops.close();
      redis.disconnect();
    },
  };
}
