// Composition root of the reconciler, used by main.ts and by the tests.
import {
  buildService,
  Counter,
  createServiceContext,
  providerClientOf,
  type ServiceHandle,
  type ServiceOptions,
} from '@booking/kit';
import type { ReconcilerConfig } from './config.js';
import { type ReconcilerTopics, reconcileHandler } from './handlers/reconcile.js';
import { sweepOnce } from './sweep.js';
import { DEFAULT_TOPICS, reconcilerTopology } from './topology.js';

export interface ReconcilerService extends ServiceHandle {
  sweep(): Promise<string[]>;
}

export function createReconciler(
  config: ReconcilerConfig,
  { topics = DEFAULT_TOPICS, logger }: ServiceOptions<ReconcilerTopics> = {},
): ReconcilerService {
  const ctx = createServiceContext(config, logger);
  const { log, redis } = ctx;
  const provider = providerClientOf(config);
  const decisions = new Counter({
    name: 'booking_reconciliations_total',
    help: 'Reconciler decisions',
    labelNames: ['decision'],
    registers: [ctx.registry],
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
  const sweeper = {
    start() {
      if (config.SWEEP_INTERVAL_MS <= 0) return;
      timer = setInterval(() => {
        sweep().catch((err: Error) =>
          log.warn({ err: err.message }, 'sweep failed; next interval tries again'),
        );
      }, config.SWEEP_INTERVAL_MS);
      timer.unref();
    },
    stop: () => clearInterval(timer),
  };
  const service = buildService(ctx, reconcilerTopology(topics), {
    groupPrefix: config.GROUP_PREFIX,
    handlers: {
      dlt: reconcileHandler(topics, {
        findByExternalRef: (id) => provider.findByExternalRef(id),
        count: (decision) => decisions.inc({ decision }),
        logger: log,
        now: Date.now,
        lateCreateWindowMs: config.LATE_CREATE_WINDOW_MS,
      }),
    },
    tuning: { dlt: { retryBackoffMs: 2000 } },
    senders: { sweep: sweepSender },
    background: [sweeper],
    listen: { host: config.RECONCILER_HTTP_HOST, port: config.RECONCILER_HTTP_PORT },
    shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
  });
  return { ...service, sweep };
}
