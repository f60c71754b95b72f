// The lag service: a poller (LagMonitor) and an HTTP face: the page, /lag, /status, /history,
// /healthz, /metrics.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createKafka, createLogger, createMetricsRegistry, type Logger } from '@booking/kit';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Admin } from 'kafkajs';
import type { LagConfig } from './config.js';
import { lagMetrics } from './metrics.js';
import { LagMonitor } from './monitor.js';
import { pageHtml } from './page.js';

const uplotDir = dirname(createRequire(import.meta.url).resolve('uplot/package.json'));
const ASSETS: Record<string, { file: string; type: string }> = {
  'uPlot.iife.min.js': { file: join(uplotDir, 'dist', 'uPlot.iife.min.js'), type: 'application/javascript' },
  'uPlot.min.css': { file: join(uplotDir, 'dist', 'uPlot.min.css'), type: 'text/css' },
};

export function buildLagApp(
  monitor: LagMonitor,
  registry: ReturnType<typeof createMetricsRegistry>,
  refreshMs: number,
): FastifyInstance {
  const app = Fastify({ logger: false });
  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').send(pageHtml(refreshMs)));
  app.get<{ Params: { name: string } }>('/assets/:name', async (req, reply) => {
    const asset = ASSETS[req.params.name];
    if (!asset) return reply.code(404).send({ error: 'NOT_FOUND' });
    return reply.type(asset.type).send(await readFile(asset.file));
  });
  app.get('/lag', async () => {
    const { at, groups } = monitor.latest;
    return { at, partitions: groups.flatMap((g) => g.partitions) };
  });
  app.get('/status', async () => {
    const { at, groups } = monitor.latest;
    return { at, groups };
  });
  app.get('/history', async () => monitor.historyView());
  app.get('/healthz', async (_req, reply) => {
    const fresh = monitor.latest.at > 0 && Date.now() - monitor.latest.at < refreshMs * 5;
    return reply
      .code(fresh ? 200 : 503)
      .send({ status: fresh ? 'ok' : 'degraded', checks: { kafka: fresh } });
  });
  app.get('/metrics', async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));
  return app;
}

class LagPollTimeout extends Error {
  constructor(ms: number) {
    super(`lag poll did not finish within ${ms} ms: a new admin client`);
  }
}

export function createLagService(config: LagConfig, deps: { logger?: Logger } = {}) {
  const logger = deps.logger ?? createLogger({ service: config.SERVICE_NAME, level: config.LOG_LEVEL });
  const registry = createMetricsRegistry(config.SERVICE_NAME);
  const kafka = createKafka({ clientId: config.SERVICE_NAME, brokers: config.KAFKA_BROKERS, logger });
  let admin: Admin = kafka.admin();
  const monitor = new LagMonitor({
    admin,
    metrics: lagMetrics(registry),
    groupFilter: new RegExp(config.LAG_GROUPS),
    window: config.LAG_WINDOW,
    allowedLag: config.LAG_ALLOWED,
    stopAfterMs: config.LAG_STOP_AFTER_MS,
    historyMs: config.LAG_HISTORY_MINUTES * 60_000,
    renewAdmin: async (old) => {
      logger.warn(
        'a new admin client in place of the old one (it asked for a deleted topic, or stopped answering)',
      );
      void old.disconnect().catch(() => undefined);
      const fresh = kafka.admin();
      await fresh.connect();
      admin = fresh;
      return fresh;
    },
    onGroupError: (group, err) =>
      logger.warn(
        { group, err: (err as Error)?.message },
        "a group's offsets could not be read; last reading kept",
      ),
  });
  const app = buildLagApp(monitor, registry, config.LAG_POLL_MS);
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let polling: Promise<unknown> = Promise.resolve();
  // Every poll is bounded: a kafkajs admin request that never answers (seen during the chaos
  // run's restarts: the page stayed "degraded" for good) gets a new client, not a frozen page.
  const pollBoundMs = Math.max(10_000, config.LAG_POLL_MS * 3);
  const boundedPoll = () => {
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new LagPollTimeout(pollBoundMs)), pollBoundMs);
    });
    return Promise.race([monitor.poll(), bound]).finally(() => clearTimeout(timer));
  };
  const tick = () => {
    polling = boundedPoll().catch(async (err) => {
      logger.warn({ err: (err as Error).message }, 'lag poll failed');
      if (err instanceof LagPollTimeout)
        await monitor.renew().catch((e) => logger.warn({ err: (e as Error).message }, 'no new admin client'));
    });
    void polling.then(() => {
      if (!stopped) timer = setTimeout(tick, config.LAG_POLL_MS);
    });
  };
  return {
    logger,
    monitor,
    app,
    async start() {
      await admin.connect();
      await boundedPoll().catch((err) =>
        logger.warn({ err: (err as Error).message }, 'first lag poll failed'),
      );
      timer = setTimeout(tick, config.LAG_POLL_MS);
      return app.listen({ host: config.LAG_HTTP_HOST, port: config.LAG_HTTP_PORT });
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await polling;
      await app.close();
      await admin.disconnect();
    },
  };
}
