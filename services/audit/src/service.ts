// Composition root of audit, used by main.ts and by the tests.
import {
  applyTransition,
  buildService,
  countsByState,
  createServiceContext,
  fromLoopback,
  invariantCheckFromSettings,
  type PoisonSource,
  pipelineMetrics,
  type ServiceHandle,
  type ServiceOptions,
} from '@booking/kit';
import { AuditLog } from './audit-log.js';
import type { AuditConfig } from './config.js';
import {
  type AuditPorts,
  auditRecordHandler,
  deadLetterHandler,
  lifecycleHandler,
  reconcilerDecisionHandler,
  unreadableLine,
} from './handlers/records.js';
import { appointmentsByState } from './metrics.js';
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
  appointmentsByState(registry, () => countsByState(redis, config.PROJECTION_PREFIX));
  const ports: AuditPorts = {
    apply: (event) => applyTransition(redis, event, config.PROJECTION_TTL_MS, config.PROJECTION_PREFIX),
    append: (lines) => auditLog.append(lines),
    alert: (kind) => alerts.inc({ kind }),
    logger: log,
    now: Date.now,
  };
  // Audit never drops what it cannot read: an ALERT line says so, with the key masked.
  const unreadable = (source: PoisonSource, error: unknown, reason: string) => {
    alerts.inc({ kind: 'unreadable_record' });
    void auditLog.append([unreadableLine(source, error, reason, Date.now())]);
  };
  // Records of different appointments side by side; one appointment's stay in order.
  const each = { partitions: 6, keys: 16 };
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
