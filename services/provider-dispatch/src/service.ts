// Composition root of provider-dispatch, used by main.ts and by the tests.
import { randomUUID } from 'node:crypto';
import {
  buildService,
  createServiceContext,
  pipelineMetrics,
  providerClientOf,
  retryPolicyOf,
  type ServiceHandle,
  type ServiceOptions,
} from '@booking/kit';
import { createCircuit, type ProviderCircuit } from './adapters/circuit.js';
import { meteredProvider, redisAttemptGuard } from './adapters/ports.js';
import type { DispatchConfig } from './config.js';
import { type DispatchTopics, dispatchHandler } from './handlers/dispatch.js';
import { pollHandler } from './handlers/poll.js';
import { dispatchMetrics } from './metrics.js';
import { DEFAULT_TOPICS, dispatchTopology } from './topology.js';

export interface DispatchService extends ServiceHandle {
  circuit: ProviderCircuit;
}

export function createDispatch(
  config: DispatchConfig,
  { topics = DEFAULT_TOPICS, logger }: ServiceOptions<DispatchTopics> = {},
): DispatchService {
  const ctx = createServiceContext(config, logger);
  const { log, registry, redis } = ctx;
  const metrics = dispatchMetrics(registry);
  const circuit = createCircuit({
    provider: new URL(config.PROVIDER_URL).host,
    failureRate: config.CIRCUIT_FAILURE_RATE,
    window: config.CIRCUIT_WINDOW,
    minCalls: Math.min(config.CIRCUIT_MIN_CALLS, config.CIRCUIT_WINDOW),
    halfOpenAfterMs: config.CIRCUIT_HALF_OPEN_AFTER_MS,
    logger: log,
    metrics,
  });
  const { alerts } = pipelineMetrics(registry);
  const ports = {
    provider: meteredProvider(providerClientOf(config), circuit, metrics),
    attempts: redisAttemptGuard(redis, {
      lockTtlMs: config.PROVIDER_TIMEOUT_MS + 5000,
      markerTtlMs: config.ATTEMPT_MARKER_TTL_MS,
    }),
    alert: (kind: string) => alerts.inc({ kind }),
    logger: log,
    now: Date.now,
  };
  const polling = { pollMinMs: config.PENDING_POLL_MIN_MS, pollMaxMs: config.PENDING_POLL_MAX_MS };
  const tuning = {
    partitions: config.PARTITIONS_CONCURRENCY,
    keys: config.KEY_CONCURRENCY,
    maxWaitTimeInMs: 200,
  };
  const service = buildService(ctx, dispatchTopology(topics, retryPolicyOf(config)), {
    groupPrefix: config.GROUP_PREFIX,
    handlers: {
      requests: dispatchHandler(
        topics,
        {
          ...polling,
          timeoutMs: config.PROVIDER_TIMEOUT_MS,
          duplicateCheckAfterMs: config.DUPLICATE_CHECK_AFTER_MS,
          instanceId: randomUUID(),
        },
        ports,
      ),
      polls: pollHandler(topics, polling, ports),
    },
    tuning: { requests: tuning, polls: tuning },
    probes: { schemaRegistry: ctx.registryUp, redis: ctx.redisUp },
    listen: { host: config.DISPATCH_HTTP_HOST, port: config.DISPATCH_HTTP_PORT },
    shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
  });
  return { ...service, circuit };
}
