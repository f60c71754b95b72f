// Composition root of audit, used by main.ts and by the tests.

import {
  alertsCounter,
  buildOpsServer,
  type ConsumerRuntimeOptions,
  countsByState,
  createServiceContext,
  fromLoopback,
  Gauge,
  type Logger,
  reconcileFromSettings,
  STATES,
  safeKey,
} from '@booking/kit';
import type { FastifyInstance } from 'fastify';
import { AuditLog } from './audit-log.js';
import type { AuditConfig } from './config.js';
import { auditRecordHandler, deadLetterHandler, lifecycleHandler } from './handlers/records.js';
import { type AuditTopics, DEFAULT_TOPICS, groups } from './topology.js';

export interface AuditService {
  ops: FastifyInstance;
  logger: Logger;
  log: AuditLog;
  start(): Promise<string>;
  stop(): Promise<void>;
}

export function createAudit(
  config: AuditConfig,
  { topics = DEFAULT_TOPICS, logger }: { topics?: AuditTopics; logger?: Logger } = {},
): AuditService {
  const ctx = createServiceContext(config, logger);
  const { log, registry, redis } = ctx;
  const auditLog = new AuditLog(config.AUDIT_LOG_PATH);
  const alerts = alertsCounter(registry);
  new Gauge({
    name: 'booking_appointments_by_state',
    help: 'Appointments by current state (the status projection)',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const counts = await countsByState(redis, config.PROJECTION_PREFIX).catch(
        () => ({}) as Record<string, number>,
      );
      for (const s of STATES) this.set({ state: s }, counts[s] ?? 0);
    },
  });
  const deps = {
    redis,
    log: auditLog,
    projectionPrefix: config.PROJECTION_PREFIX,
    projectionTtlMs: config.PROJECTION_TTL_MS,
    logger: log,
    alerts,
  };
  const group = groups(config.GROUP_PREFIX);
  const common = <T>(
    name: string,
    groupId: string,
    topic: string,
    schema: ConsumerRuntimeOptions<T>['schema'],
    handle: ConsumerRuntimeOptions<T>['handle'],
  ) =>
    ctx.consumer<T>({
      name,
      schema,
      groupId,
      topics: [topic],
      // Audit writes no records (its outputs are the trail and the projection): plain commits.
      transactional: false,
      partitionsConsumedConcurrently: 6,
      handle,
      // Audit never drops what it cannot read: the line says so, with the raw bytes masked.
      onPoison: (source, error, reason) => {
        alerts.inc({ kind: 'unreadable_record' });
        void auditLog.append([
          {
            auditId: `${source.topic}/${source.partition}/${source.message.offset}`,
            kind: 'ALERT',
            // An appointment id as it is; any other key only hashed (it may hold personal data).
            appointmentId: safeKey(source.message.key),
            correlationId: null,
            from: null,
            to: null,
            reason: `${reason}: ${(error as Error).message}`,
            topic: source.topic,
            partition: source.partition,
            offset: source.message.offset,
            at: new Date(Number(source.message.timestamp) || Date.now()).toISOString(),
            recordedAt: new Date().toISOString(),
            alert: true,
          },
        ]);
        return [];
      },
    });
  const runtimes = [
    common('lifecycle', group.lifecycle, topics.lifecycle, 'LifecycleTransition', lifecycleHandler(deps)),
    common('dlt', group.dlt, topics.dlt, 'DeadLetter', deadLetterHandler(deps)),
    common('records', group.records, topics.audit, 'AuditRecord', auditRecordHandler(deps)),
  ];
  const ops = buildOpsServer({
    registry,
    health: async () => ({
      redis: await ctx.redisUp(),
      ...Object.fromEntries(runtimes.map((r) => [`${r.name}Consumer`, r.health()])),
    }),
  });
  // On demand: the pipeline's states checked against the provider, written to the report file.
  ops.post('/reconciliation', async (req, reply) => {
    // Unauthenticated and costly (it reads the provider for every appointment): this machine only.
    if (!fromLoopback(req))
      return reply.code(403).send({ error: 'FORBIDDEN', message: 'accepted from loopback only' });
    if (!config.PROVIDER_URL || !config.PROVIDER_TOKEN) {
      return reply
        .code(409)
        .send({ error: 'NOT_CONFIGURED', message: 'set PROVIDER_URL and PROVIDER_TOKEN' });
    }
    const report = await reconcileFromSettings(
      redis,
      { ...config, PROVIDER_URL: config.PROVIDER_URL, PROVIDER_TOKEN: config.PROVIDER_TOKEN },
      config.RECONCILIATION_REPORT_PATH,
    );
    return report;
  });

  return {
    ops,
    logger: log,
    log: auditLog,
    async start() {
      await Promise.all(runtimes.map((r) => r.start()));
      return ops.listen({ host: config.AUDIT_HTTP_HOST, port: config.AUDIT_HTTP_PORT });
    },
    async stop() {
      await Promise.all(runtimes.map((r) => r.stop(config.SHUTDOWN_TIMEOUT_MS)));
      await auditLog.close();
      await ops.close();
      redis.disconnect();
    },
  };
}
