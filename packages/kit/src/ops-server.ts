// /healthz and /metrics for a service without an HTTP API of its own, and the health report every
// service's /healthz answers with (intake's own API uses healthReport too).
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Registry } from 'prom-client';
import { type ConsumerHealth, healthy } from './kafka/consumer-health.js';

/** A dependency answers (boolean), or a consumer's running/stuck state. */
export type HealthCheck = boolean | ConsumerHealth;
export type HealthChecks = Record<string, HealthCheck>;

const passes = (c: HealthCheck) => (typeof c === 'boolean' ? c : healthy(c));

/** True for a peer on this machine: ops endpoints that change state answer only those (issue 12). */
export function fromLoopback(req: FastifyRequest): boolean {
  return /^(127\.|::1$|::ffff:127\.)/.test(req.socket.remoteAddress ?? '');
}

/** 200 when every check passes, else 503; the body names each check. */
export function healthReport(checks: HealthChecks): { code: 200 | 503; body: object } {
  const ok = Object.values(checks).every(passes);
  return { code: ok ? 200 : 503, body: { status: ok ? 'ok' : 'degraded', checks } };
}

export interface OpsServerOptions {
  registry: Registry;
  health: () => Promise<HealthChecks>;
}

export function buildOpsServer({ registry, health }: OpsServerOptions): FastifyInstance {
  const app = Fastify({ logger: false });
  app.get('/healthz', async (_req, reply) => {
    const { code, body } = healthReport(await health());
    return reply.code(code).send(body);
  });
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
  return app;
}
