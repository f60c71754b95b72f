// Composition root of audit, used by main.ts and by the tests.
import {
  applyTransition,
  buildService,
  countsByState,
  createServiceContext,
  fromLoopback,
  Gauge,
  invariantCheckFromSettings,
  type PoisonSource,
  pipelineMetrics,
  type ServiceHandle,
  type ServiceOptions,
  STATES,
  safeKey,
} from '@booking/kit';
import { AuditLog } from './audit-log.js';
import type { AuditConfig } from './config.js';
import {
  type AuditPorts,
  auditRecordHandler,
  deadLetterHandler,
  lifecycleHandler,
  reconcilerDecisionHandler,
} from './handlers/records.js';
import { type AuditTopics, auditTopology, DEFAULT_TOPICS } from './topology.js';

export interface AuditService extends ServiceHandle {
  log: AuditLog;
}

export function createAudit(
  config: AuditConfig,
  { topics = DEFAULT_TOPICS, logger }: ServiceOptions<AuditTopics> = {},
): AuditService {
  const ctx = createServiceContext(config, logger);
  const { log, registry, redis } = ctx;
  const auditLog = new AuditLog(config.AUDIT_LOG_PATH);
  const { alerts } = pipelineMetrics(registry);
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
  const ports: AuditPorts = {
    apply: (event) => applyTransition(redis, event, config.PROJECTION_TTL_MS, config.PROJECTION_PREFIX),
    append: (lines) => auditLog.append(lines),
    alert: (kind) => alerts.inc({ kind }),
    logger: log,
    now: Date.now,
  };
  // Audit never drops what it cannot read: the line says so, with the key masked.
  const unreadable = (source: PoisonSource, error: unknown, reason: string) => {
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
  };
  const each = { partitions: 6 };
  const service = buildService(ctx, auditTopology(topics), {
    groupPrefix: config.GROUP_PREFIX,
    handlers: {
      lifecycle: lifecycleHandler(ports),
      dlt: deadLetterHandler(ports),
      compensationDlt: deadLetterHandler(ports),
      records: auditRecordHandler(ports),
      decisions: reconcilerDecisionHandler(ports),
    },
    tuning: { lifecycle: each, dlt: each, compensationDlt: each, records: each, decisions: each },
    onPoison: {
      lifecycle: unreadable,
      dlt: unreadable,
      compensationDlt: unreadable,
      records: unreadable,
      decisions: unreadable,
    },
    probes: { redis: ctx.redisUp },
    listen: { host: config.AUDIT_HTTP_HOST, port: config.AUDIT_HTTP_PORT },
    close: () => auditLog.close(),
    shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
  });
  // On demand: the pipeline's states checked against the provider, written to the report file.
  service.ops.post('/invariants', async (req, reply) => {
    // Unauthenticated and costly (it reads the provider for every appointment): this machine only.
    if (!fromLoopback(req))
      return reply.code(403).send({ error: 'FORBIDDEN', message: 'accepted from loopback only' });
    if (!config.PROVIDER_URL || !config.PROVIDER_TOKEN) {
      return reply
        .code(409)
        .send({ error: 'NOT_CONFIGURED', message: 'set PROVIDER_URL and PROVIDER_TOKEN' });
    }
    return invariantCheckFromSettings(
      redis,
      { ...config, PROVIDER_URL: config.PROVIDER_URL, PROVIDER_TOKEN: config.PROVIDER_TOKEN },
      config.INVARIANTS_REPORT_PATH,
    );
  });
  return { ...service, log: auditLog };
}
