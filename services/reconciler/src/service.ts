// Composition root of the reconciler, used by main.ts and by the tests.
import { buildOpsServer, Counter, createServiceContext, type Logger, ProviderClient } from '@booking/kit';
import type { DeadLetter } from '@booking/schemas';
import type { FastifyInstance } from 'fastify';
import type { ReconcilerConfig } from './config.js';
import { type ReconcilerTopics, reconcileHandler } from './handlers/reconcile.js';
import { sweepOnce } from './sweep.js';
import { DEFAULT_TOPICS, groups } from './topology.js';

export interface ReconcilerService {
  ops: FastifyInstance;
  logger: Logger;
  sweep(): Promise<string[]>;
  start(): Promise<string>;
  stop(): Promise<void>;
}

export function createReconciler(
  config: ReconcilerConfig,
  { topics = DEFAULT_TOPICS, logger }: { topics?: ReconcilerTopics; logger?: Logger } = {},
): ReconcilerService {
  const ctx = createServiceContext(config, logger);
  const { log, registry, redis } = ctx;
  const provider = new ProviderClient({
    baseUrl: config.PROVIDER_URL,
    token: config.PROVIDER_TOKEN,
    timeoutMs: config.PROVIDER_TIMEOUT_MS,
  });
  const decisions = new Counter({
    name: 'booking_reconciliations_total',
    help: 'Reconciler decisions',
    labelNames: ['decision'],
    registers: [registry],
  });
  const runtime = ctx.consumer<DeadLetter>({
    name: 'dlt',
    groupId: groups(config.GROUP_PREFIX).dlt,
    topics: [topics.dlt],
    schema: 'DeadLetter',
    retryBackoffMs: 2000,
    handle: reconcileHandler({ provider, topics, logger: log, metrics: { decisions } }),
    // A dead letter that cannot even be read is quarantined in the audit trail (by audit itself).
    onPoison: () => [],
  });
  const sweepSender = ctx.sender('sweep');
  const sweep = () =>
    sweepOnce({
      redis,
      sender: sweepSender,
      topics,
      projectionPrefix: config.PROJECTION_PREFIX,
      stuckAfterMs: config.STUCK_AFTER_MS,
      logger: log,
    });
  let timer: NodeJS.Timeout | undefined;
  const ops = buildOpsServer({
    registry,
    health: async () => ({ consumer: runtime.health() }),
  });
  return {
    ops,
    logger: log,
    sweep,
    async start() {
      await sweepSender.start();
      await runtime.start();
      if (config.SWEEP_INTERVAL_MS > 0) {
        timer = setInterval(() => {
          sweep().catch((err: Error) =>
            log.warn({ err: err.message }, 'sweep failed; next interval tries again'),
          );
        }, config.SWEEP_INTERVAL_MS);
        timer.unref();
      }
      return ops.listen({ host: config.RECONCILER_HTTP_HOST, port: config.RECONCILER_HTTP_PORT });
    },
    async stop() {
      if (timer) clearInterval(timer);
      await runtime.stop(config.SHUTDOWN_TIMEOUT_MS);
      await sweepSender.stop();
      await ops.close();
      redis.disconnect();
    },
  };
}
