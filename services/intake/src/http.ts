// POST /v1/appointments and the status reads. build apart from listen: tests use inject().
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import {
  type AvroSerde,
  appointmentIdFor,
  claimKeyFor,
  type HealthChecks,
  hashKey,
  healthReport,
  type Logger,
  type Registry,
  readProjection,
  releaseClaim,
  settleClaim,
  type TransactionalSender,
} from '@booking/kit';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  LogController,
} from 'fastify';
import type { Redis } from 'ioredis';
import { type AcceptTopics, accept, claimValue } from './handlers/accept.js';
import type { IntakeMetrics } from './metrics.js';
import { fieldErrors, httpBodySchema, IDEMPOTENCY_KEY, toRequest } from './validation.js';

export interface HttpDeps {
  redis: Redis;
  /** Writes a request's records in one committed transaction (issue 20). */
  sender: Pick<TransactionalSender, 'send'>;
  serde: AvroSerde;
  topics: AcceptTopics;
  apiKeys: readonly string[];
  idempotencyTtlMs: number;
  projectionPrefix: string;
  acceptingTtlMs: number;
  /** Bound on waiting for the records' commit; past it the answer is 503 (retry, same key). */
  acceptTimeoutMs: number;
  bodyLimitBytes: number;
  logger: Logger;
  registry: Registry;
  metrics: IntakeMetrics;
  health: () => Promise<HealthChecks>;
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
    return unavailable(reply, 'UNAVAILABLE');
  });

  /** 503 with Retry-After: nothing was acknowledged; the same request with the same key is safe. */
  const unavailable = (reply: FastifyReply, error: string) =>
    reply.code(503).header('retry-after', '1').send({
      error,
      message: 'the request could not be accepted now; retry with the same Idempotency-Key',
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
      case 'accepted': {
        // 202 only for records in a committed transaction, and only while our claim still holds
        // (issue 20: a claim that expired during a broker outage let a 202 stand for nothing).
        const acceptedValue = claimValue('accepted', JSON.parse(result.claimValue).h, result.appointmentId);
        const settle = () =>
          settleClaim(deps.redis, result.claimKey, result.claimValue, acceptedValue, deps.idempotencyTtlMs);
        const release = () => releaseClaim(deps.redis, result.claimKey, result.claimValue).catch(() => false);
        const sending = deps.sender.send(result.emits);
        let timer: NodeJS.Timeout | undefined;
        const outcome = await Promise.race([
          sending.then(
            () => 'committed' as const,
            (err: unknown) => ({ err }),
          ),
          new Promise<'timeout'>((resolve) => {
            timer = setTimeout(() => resolve('timeout'), deps.acceptTimeoutMs);
          }),
        ]).finally(() => clearTimeout(timer));
        if (outcome === 'timeout') {
          // The transaction may still commit: the claim is settled when it ends, never left lying.
          void sending.then(settle, release).catch(() => undefined);
          deps.metrics.acceptFailures.inc({ reason: 'timeout' });
          log.warn({ boundMs: deps.acceptTimeoutMs }, 'records not committed in time; answered 503');
          return unavailable(reply, 'ACCEPT_TIMEOUT');
        }
        if (outcome !== 'committed') {
          await release();
          deps.metrics.acceptFailures.inc({ reason: 'send-failed' });
          log.warn({ err: (outcome.err as Error)?.message }, 'records not committed; answered 503');
          return unavailable(reply, 'UNAVAILABLE');
        }
        const claim = await settle();
        if (claim !== 'held') {
          deps.metrics.acceptFailures.inc({ reason: 'claim-lost' });
          log.warn({ claim }, 'idempotency claim expired or changed hands while accepting; answered 503');
          return unavailable(reply, 'IDEMPOTENCY_CLAIM_LOST');
        }
        deps.metrics.accepted.inc({ channel: 'http' });
        log.info({ to: 'REQUESTED', calendarId: fields.calendarId }, 'accepted');
        return accepted(reply, result.appointmentId, false);
      }
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
    const { code, body } = healthReport(await deps.health());
    return reply.code(code).send(body);
  });

  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', deps.registry.contentType);
    return deps.registry.metrics();
  });

  return app;
}
