// Composition root of intake, used by main.ts and by the tests (which pass their own topics).
import {
  buildService,
  claim,
  createServiceContext,
  type ServiceHandle,
  type ServiceOptions,
} from '@booking/kit';
import type { IntakeConfig } from './config.js';
import { inboundHandler } from './handlers/inbound.js';
import { buildHttpApp } from './http.js';
import { intakeMetrics } from './metrics.js';
import { DEFAULT_TOPICS, type IntakeTopics, intakeTopology } from './topology.js';

export type IntakeService = ServiceHandle;

export function createIntake(
  config: IntakeConfig,
  { topics = DEFAULT_TOPICS, logger }: ServiceOptions<IntakeTopics> = {},
): IntakeService {
  const ctx = createServiceContext(config, logger);
  const { log, registry, serde, redis } = ctx;
  const sender = ctx.sender('http');
  const metrics = intakeMetrics(registry);
  const horizonMs = config.BOOKING_HORIZON_DAYS * 86_400_000;
  const service = buildService(ctx, intakeTopology(topics), {
    groupPrefix: config.GROUP_PREFIX,
    handlers: {
      inbound: inboundHandler({
        claim: (key, value, ttlMs) => claim(redis, key, value, ttlMs),
        topics,
        idempotencyTtlMs: config.IDEMPOTENCY_TTL_MS,
        horizonMs,
        logger: log,
        metrics,
      }),
    },
    tuning: { inbound: { partitions: config.PARTITIONS_CONCURRENCY, keys: config.KEY_CONCURRENCY } },
    senders: { kafka: sender },
    probes: { schemaRegistry: ctx.registryUp, redis: ctx.redisUp },
    listen: { host: config.INTAKE_HTTP_HOST, port: config.INTAKE_HTTP_PORT },
    // The API serves /healthz and /metrics beside /v1.
    http: (health) =>
      buildHttpApp({
        redis,
        sender,
        serde,
        topics,
        apiKeys: config.apiKeys,
        idempotencyTtlMs: config.IDEMPOTENCY_TTL_MS,
        projectionPrefix: config.PROJECTION_PREFIX,
        acceptingTtlMs: config.ACCEPTING_TTL_MS,
        acceptTimeoutMs: config.ACCEPT_TIMEOUT_MS,
        bodyLimitBytes: config.BODY_LIMIT_BYTES,
        horizonMs,
        rateLimitPerMinute: config.RATE_LIMIT_PER_MINUTE,
        logger: log,
        registry,
        metrics,
        health,
      }),
    shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
  });
  return service;
}
