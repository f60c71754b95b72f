// POST /v1/appointments and the status reads. build apart from listen: tests use inject().
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import {
  type AvroSerde,
  appointmentIdFor,
  claimKeyFor,
  hashKey,
  type Logger,
  produceEmits,
  type Registry,
  readProjection,
  releaseClaim,
  replaceClaim,
} from '@booking/kit';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  LogController,
} from 'fastify';
import type { Redis } from 'ioredis';
import type { Producer } from 'kafkajs';
import { type AcceptTopics, accept, claimValue } from './handlers/accept.js';
import type { IntakeMetrics } from './metrics.js';
import { fieldErrors, httpBodySchema, IDEMPOTENCY_KEY, toRequest } from './validation.js';

export interface HttpDeps {
  redis: Redis;
  producer: Producer;
  serde: AvroSerde;
  topics: AcceptTopics;
  apiKeys: readonly string[];
  idempotencyTtlMs: number;
  projectionPrefix: string;
  acceptingTtlMs: number;
  bodyLimitBytes: number;
  logger: Logger;
  registry: Registry;
  metrics: IntakeMetrics;
  health: () => Promise<Record<string, boolean>>;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

export function buildHttpApp(deps: HttpDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.logger as unknown as FastifyBaseLogger,
    bodyLimit: deps.bodyLimitBytes,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.-]{1,64}$/.test(given) ? given : randomUUID();
    },
    logController: new LogController({ requestIdLogLabel: 'requestId', disableRequestLogging: true }),
  });
  const keyDigests = deps.apiKeys.map(digest);
  const schema = httpBodySchema();

  app.addHook('onResponse', async (req, reply) => {
    deps.metrics.httpRequests.inc({
      route: req.routeOptions.url ?? 'unknown',
      status: String(reply.statusCode),
    });
  });

  app.addHook('onRequest', async (req, reply) => {
    if (!req.url.startsWith('/v1/')) return;
    const header = req.headers.authorization ?? '';
    const token = header.startsWith('Bearer ') ? header.slice(7) : '';
    // Constant time: compare fixed-length digests against every key, whatever matches.
    const given = digest(token);
    let ok = false;
    for (const k of keyDigests) ok = timingSafeEqual(given, k) || ok;
    if (!token || !ok)
      return reply.code(401).send({ error: 'UNAUTHORIZED', message: 'a valid Bearer API key is required' });
  });

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply
        .code(413)
        .send({ error: 'PAYLOAD_TOO_LARGE', message: `the body is over ${deps.bodyLimitBytes} bytes` });
    }
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return reply.code(415).send({ error: 'UNSUPPORTED_MEDIA_TYPE', message: 'send application/json' });
    }
    if (err.statusCode && err.statusCode < 500) {
      return reply.code(err.statusCode).send({ error: 'BAD_REQUEST', message: err.message });
    }
    req.log.error({ err }, 'request failed');
    return reply.code(503).send({
      error: 'UNAVAILABLE',
      message: 'the request could not be accepted now; retry with the same Idempotency-Key',
    });
  });

  const accepted = (reply: FastifyReply, appointmentId: string, replayed: boolean) => {
    reply.header('location', `/v1/appointments/${appointmentId}`);
    if (replayed) reply.header('idempotent-replayed', 'true');
    return reply.code(202).send({ appointmentId, state: 'REQUESTED' });
  };

  app.post('/v1/appointments', async (req, reply) => {
    const key = req.headers['idempotency-key'];
    if (typeof key !== 'string' || !IDEMPOTENCY_KEY.test(key)) {
      return reply.code(400).send({
        error: 'VALIDATION_FAILED',
        errors: [{ field: 'Idempotency-Key', message: 'header required: 8-255 printable characters' }],
      });
    }
    const parsed = schema.safeParse(req.body);
    if (!parsed.success) {
      return reply.code(400).send({ error: 'VALIDATION_FAILED', errors: fieldErrors(parsed.error) });
    }
    const { source = 'http', ...fields } = parsed.data;
    const correlationIdHeader = req.headers['x-correlation-id'];
    const correlationId =
      typeof correlationIdHeader === 'string' && correlationIdHeader ? correlationIdHeader : String(req.id);
    const traceparent = typeof req.headers.traceparent === 'string' ? req.headers.traceparent : undefined;
    const result = await accept(
      { redis: deps.redis, topics: deps.topics, idempotencyTtlMs: deps.idempotencyTtlMs },
      {
        scope: 'http',
        source,
        idempotencyKey: key,
        request: toRequest(fields),
        correlationId,
        traceparent,
      },
      'accepting',
      deps.acceptingTtlMs,
    );
    const log = req.log.child({
      appointmentId: result.appointmentId,
      correlationId,
      idempotencyKeyHash: hashKey(key),
    });
    switch (result.kind) {
      case 'replay':
        deps.metrics.idempotencyHits.inc({ channel: 'http', outcome: 'replayed' });
        log.info('idempotent replay');
        return accepted(reply, result.appointmentId, true);
      case 'in-progress':
        deps.metrics.idempotencyHits.inc({ channel: 'http', outcome: 'in-progress' });
        return reply.code(409).send({
          error: 'IDEMPOTENCY_KEY_IN_USE',
          message: 'a request with this key is still being accepted',
        });
      case 'conflict':
        deps.metrics.idempotencyHits.inc({ channel: 'http', outcome: 'conflict' });
        return reply.code(422).send({
          error: 'IDEMPOTENCY_KEY_REUSED',
          message: 'this Idempotency-Key was used with a different body',
        });
      case 'accepted':
        try {
          await produceEmits(deps.producer, deps.serde, result.emits);
        } catch (err) {
          await releaseClaim(deps.redis, result.claimKey, result.claimValue).catch(() => false);
          throw err;
        }
        await replaceClaim(
          deps.redis,
          result.claimKey,
          result.claimValue,
          claimValue('accepted', JSON.parse(result.claimValue).h, result.appointmentId),
          deps.idempotencyTtlMs,
        );
        deps.metrics.accepted.inc({ channel: 'http' });
        log.info({ to: 'REQUESTED', calendarId: fields.calendarId }, 'accepted');
        return accepted(reply, result.appointmentId, false);
    }
  });

  app.get<{ Params: { id: string } }>('/v1/appointments/:id', async (req, reply) => {
    const view = await readProjection(deps.redis, req.params.id, deps.projectionPrefix);
    if (!view) return reply.code(404).send({ error: 'NOT_FOUND' });
    const { appointmentId, state, attempts, bookingId, history } = view;
    return { appointmentId, state, attempts, bookingId, history };
  });

  app.get<{ Querystring: { idempotencyKey?: string; source?: string } }>(
    '/v1/appointments',
    async (req, reply) => {
      const { idempotencyKey, source } = req.query;
      if (!idempotencyKey) {
        return reply
          .code(400)
          .send({ error: 'VALIDATION_FAILED', errors: [{ field: 'idempotencyKey', message: 'required' }] });
      }
      const scope = source ? `kafka:${source}` : 'http';
      if (!(await deps.redis.exists(claimKeyFor('intake', scope, idempotencyKey)))) {
        return reply.code(404).send({ error: 'NOT_FOUND' });
      }
      const view = await readProjection(
        deps.redis,
        appointmentIdFor(scope, idempotencyKey),
        deps.projectionPrefix,
      );
      if (!view) return reply.code(404).send({ error: 'NOT_FOUND' });
      const { appointmentId, state, attempts, bookingId, history } = view;
      return { appointmentId, state, attempts, bookingId, history };
    },
  );

  app.get('/healthz', async (_req, reply) => {
    const checks = await deps.health();
    const ok = Object.values(checks).every(Boolean);
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'degraded', checks });
  });

  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', deps.registry.contentType);
    return deps.registry.metrics();
  });

  return app;
}
