// POST /v1/appointments and the status reads. build apart from listen: tests use inject().

import { randomUUID } from 'node:crypto';
import {
  type AvroSerde,
  apiKeys,
  appointmentIdFor,
  claim,
  claimKeyFor,
  contextFrom,
  currentTraceparent,
  type HealthChecks,
  hashKey,
  healthReport,
  inSpan,
  type Logger,
  type Registry,
  readProjection,
  releaseClaim,
  replaceClaim,
  SpanKind,
  settleClaim,
  type TransactionalSender,
} from '@booking/kit';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  LogController,
} from 'fastify';
import type { Redis } from 'ioredis';
import { type AcceptTopics, accept, claimValue } from './handlers/accept.js';
import type { IntakeMetrics } from './metrics.js';
import { OPENAPI_INFO, ROUTE_SCHEMAS } from './openapi.js';
import {
  correlationIdOr,
  fieldErrors,
  httpBodySchema,
  IDEMPOTENCY_KEY,
  toRequest,
  unsafeTextErrors,
  validTraceparent,
} from './validation.js';

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
  /** How far ahead a slot or deadline may lie. */
  horizonMs?: number;
  /** Requests per minute per API key on /v1, counted in Redis (shared by every instance). */
  rateLimitPerMinute?: number;
  logger: Logger;
  registry: Registry;
  metrics: IntakeMetrics;
  health: () => Promise<HealthChecks>;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The id of the API key the request authenticated with (set by the /v1 scope's hook). */
    apiKeyId: string;
  }
}

const APPOINTMENT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Idempotency scope of an API key: each key's Idempotency-Keys are its own. */
export const httpScope = (keyId: string) => `http:${keyId}`;

/**
 * Header fields that may appear once (RFC 9110 §5.3: a field that is not a list, given twice, makes
 * the message malformed; RFC 9112 §3.2: more than one Host MUST be answered 400). Node keeps the
 * first Authorization or Host and drops the rest, so which copy a proxy in front acted on is
 * unknowable: the request is refused instead. Counted on the raw headers, for every route.
 */
export const SINGLETON_HEADERS = [
  'host',
  'authorization',
  'content-type',
  'content-length',
  'idempotency-key',
  'x-correlation-id',
  'x-request-id',
  'traceparent',
] as const;

/** The singleton fields given more than once, from node's rawHeaders (name, value, name, value …). */
export function repeatedSingletons(rawHeaders: readonly string[]): string[] {
  const seen = new Map<string, number>();
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    seen.set(name, (seen.get(name) ?? 0) + 1);
  }
  return SINGLETON_HEADERS.filter((h) => (seen.get(h) ?? 0) > 1);
}

/**
 * The content codings of a request (RFC 9110 §8.4) other than identity. The API decodes none: a
 * body is parsed as the bytes that arrived, so a coding the server does not apply is 415 (§15.5.16),
 * never parsed as if the header were absent (what a proxy inflates and what we parse must agree).
 */
export function unappliedCodings(header: string | string[] | undefined): string[] {
  if (header === undefined) return [];
  const list = (Array.isArray(header) ? header.join(',') : header).split(',');
  return list.map((c) => c.trim().toLowerCase()).filter((c) => c !== '' && c !== 'identity');
}

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
  const keys = apiKeys(deps.apiKeys);
  // JSON only: fastify's built-in text/plain parser would hand the schema a string, answered as a
  // confusing "(body) required" where any other type gets 415 (issue 12).
  app.removeContentTypeParser('text/plain');
  const schema = httpBodySchema(Date.now, deps.horizonMs);

  // The contract, built from the route schemas (openapi.ts): /openapi.json and a reference page.
  app.register(swagger, OPENAPI_INFO);
  app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  // Before routing's own hooks (the /v1 key check included): the message itself is malformed.
  app.addHook('onRequest', async (req, reply) => {
    const repeated = repeatedSingletons(req.raw.rawHeaders);
    if (repeated.length > 0)
      return reply.code(400).send({
        error: 'REPEATED_HEADER',
        message: `header given more than once: ${repeated.join(', ')}`,
        errors: repeated.map((field) => ({ field, message: 'must be given once' })),
      });
    const codings = unappliedCodings(req.headers['content-encoding']);
    if (codings.length > 0)
      return reply.code(415).header('accept-encoding', 'identity').send({
        error: 'UNSUPPORTED_CONTENT_ENCODING',
        message: 'send the body without a content coding (Content-Encoding: identity or none)',
      });
  });

  app.addHook('onResponse', async (req, reply) => {
    deps.metrics.httpRequests.inc({
      route: req.routeOptions.url ?? 'unknown',
      status: String(reply.statusCode),
    });
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
    if (err.statusCode === 429) {
      return reply.code(429).send({ error: 'RATE_LIMITED', message: err.message });
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

  // Every /v1 route needs a key: the hook belongs to the routes of this scope, whatever the URL's
  // spelling (percent-encoded or not) that the router matched.
  app.register(
    async (v1) => {
      v1.decorateRequest('apiKeyId', '');
      // The route schemas document (openapi.ts); zod validates and the answers go out as built.
      v1.setValidatorCompiler(() => () => true);
      v1.setSerializerCompiler(() => (data) => JSON.stringify(data));
      // After the key check (onRequest), per key, in Redis: 429 with Retry-After past the limit.
      await v1.register(rateLimit, {
        hook: 'preHandler',
        max: deps.rateLimitPerMinute ?? 60_000,
        timeWindow: 60_000,
        redis: deps.redis,
        nameSpace: 'rl:intake:',
        keyGenerator: (req) => req.apiKeyId,
        errorResponseBuilder: (_req, ctx) => ({
          statusCode: 429,
          message: `over ${ctx.max} requests a minute for this API key; retry in ${Math.ceil(ctx.ttl / 1000)} s`,
        }),
      });
      v1.addHook('onRequest', async (req, reply) => {
        const id = keys.verify(req.headers.authorization);
        if (!id)
          return reply
            .code(401)
            .send({ error: 'UNAUTHORIZED', message: 'a valid Bearer API key is required' });
        req.apiKeyId = id;
      });

      v1.post('/appointments', { schema: ROUTE_SCHEMAS.book }, async (req, reply) =>
        // The accept in a span of its own: a child of the caller's trace (traceparent), the parent
        // of every hop the booking takes after it (tracing.ts).
        inSpan(
          'intake accept',
          contextFrom({ traceparent: validTraceparent(req.headers.traceparent) }),
          { 'http.request.method': 'POST', 'http.route': '/v1/appointments' },
          async (span) => {
            const key = req.headers['idempotency-key'];
            if (typeof key !== 'string' || !IDEMPOTENCY_KEY.test(key)) {
              return reply.code(400).send({
                error: 'VALIDATION_FAILED',
                errors: [
                  { field: 'Idempotency-Key', message: 'header required: 8-255 printable characters' },
                ],
              });
            }
            // Control characters and bidi overrides, in any string of the body: 422 naming each field
            // (with the schema's own errors, if any). The same walk refuses them on Kafka.
            const unsafe = unsafeTextErrors(req.body);
            const parsed = schema.safeParse(req.body);
            if (unsafe.length > 0) {
              const others = parsed.success
                ? []
                : fieldErrors(parsed.error).filter((e) => !unsafe.some((u) => u.field === e.field));
              return reply.code(422).send({ error: 'UNSAFE_CHARACTERS', errors: [...unsafe, ...others] });
            }
            if (!parsed.success) {
              return reply.code(400).send({ error: 'VALIDATION_FAILED', errors: fieldErrors(parsed.error) });
            }
            const { source = 'http', ...fields } = parsed.data;
            // Carried into every record and log line: bounded and plain, or replaced (issue 12).
            const correlationId = correlationIdOr(req.headers['x-correlation-id'], String(req.id));
            // The records carry this span's trace context (tracing off: the caller's, if well-formed).
            const traceparent = currentTraceparent(validTraceparent(req.headers.traceparent));
            const result = await accept(
              {
                claim: (k, v, ttl) => claim(deps.redis, k, v, ttl),
                topics: deps.topics,
                idempotencyTtlMs: deps.idempotencyTtlMs,
              },
              {
                scope: httpScope(req.apiKeyId),
                source,
                idempotencyKey: key,
                request: toRequest(fields),
                correlationId,
                traceparent,
              },
              'accepting',
              deps.acceptingTtlMs,
              deps.acceptTimeoutMs,
            );
            span.setAttribute('booking.appointment_id', result.appointmentId);
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
                const acceptedValue = claimValue(
                  'accepted',
                  JSON.parse(result.claimValue).h,
                  result.appointmentId,
                );
                // Settled until Redis answers (bounded by the claim's TTL): the records are committed,
                // and a claim left "accepting" would expire and let the client's retry be accepted a
                // second time (the chaos run's Redis kill: 3 appointments requested twice).
                const settle = () =>
                  untilAnswered(
                    () =>
                      settleClaim(
                        deps.redis,
                        result.claimKey,
                        result.claimValue,
                        acceptedValue,
                        deps.idempotencyTtlMs,
                      ),
                    deps.acceptingTtlMs,
                  );
                const release = () =>
                  releaseClaim(deps.redis, result.claimKey, result.claimValue).catch(() => false);
                const sending = deps.sender.send(result.emits);
                // The claim lives as long as the transaction may still commit (the sender tries for up
                // to 45 s, longer than the claim's TTL): a retry of this request then waits for this
                // one's outcome instead of taking the key over. Expired mid-send, the retry was accepted
                // again and both transactions committed (the chaos run's broker kill: 7 appointments
                // requested twice, with two outcomes).
                keepClaimWhile(deps.redis, result.claimKey, result.claimValue, deps.acceptingTtlMs, sending);
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
                const settling = settle();
                const claim = await Promise.race([
                  settling,
                  new Promise<'unanswered'>((resolve) => {
                    timer = setTimeout(() => resolve('unanswered'), deps.acceptTimeoutMs);
                  }),
                ])
                  .catch(() => 'unanswered' as const)
                  .finally(() => clearTimeout(timer));
                if (claim === 'unanswered') {
                  // Committed, and the claim is settled as soon as Redis answers: the retry replays 202.
                  void settling.catch(() => undefined);
                  deps.metrics.acceptFailures.inc({ reason: 'claim-unsettled' });
                  log.warn('records committed, idempotency claim not settled yet (Redis); answered 503');
                  return unavailable(reply, 'UNAVAILABLE');
                }
                if (claim !== 'held') {
                  deps.metrics.acceptFailures.inc({ reason: 'claim-lost' });
                  log.warn(
                    { claim },
                    'idempotency claim expired or changed hands while accepting; answered 503',
                  );
                  return unavailable(reply, 'IDEMPOTENCY_CLAIM_LOST');
                }
                deps.metrics.accepted.inc({ channel: 'http' });
                log.info({ to: 'REQUESTED', calendarId: fields.calendarId }, 'accepted');
                return accepted(reply, result.appointmentId, false);
              }
            }
          },
          SpanKind.SERVER,
        ),
      );

      v1.get<{ Params: { id: string } }>(
        '/appointments/:id',
        { schema: ROUTE_SCHEMAS.status },
        async (req, reply) => {
          // Appointment ids are UUID-shaped; anything else names no appointment (and never reaches
          // Redis: `counts` used to hit the projection's counts hash and answer 503).
          if (!APPOINTMENT_ID.test(req.params.id)) return reply.code(404).send({ error: 'NOT_FOUND' });
          const view = await readProjection(deps.redis, req.params.id, deps.projectionPrefix);
          if (!view) return reply.code(404).send({ error: 'NOT_FOUND' });
          const { appointmentId, state, attempts, bookingId, history } = view;
          return { appointmentId, state, attempts, bookingId, history };
        },
      );

      v1.get<{ Querystring: { idempotencyKey?: string; source?: string } }>(
        '/appointments',
        { schema: ROUTE_SCHEMAS.byKey },
        async (req, reply) => {
          const { idempotencyKey, source } = req.query;
          if (!idempotencyKey) {
            return reply.code(400).send({
              error: 'VALIDATION_FAILED',
              errors: [{ field: 'idempotencyKey', message: 'required' }],
            });
          }
          const scope = source ? `kafka:${source}` : httpScope(req.apiKeyId);
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
    },
    { prefix: '/v1' },
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

/**
 * Renews `value`'s claim on `key` every third of its TTL until `pending` settles (or the claim is
 * no longer ours). Bounded by `pending`, which the sender bounds (its budget).
 */
export function keepClaimWhile(
  redis: Redis,
  key: string,
  value: string,
  ttlMs: number,
  pending: Promise<unknown>,
): void {
  let done = false;
  const timer = setInterval(
    () => {
      if (done) return;
      replaceClaim(redis, key, value, value, ttlMs).then(
        (held) => {
          if (!held) stop();
        },
        () => undefined,
      );
    },
    Math.max(100, Math.floor(ttlMs / 3)),
  );
  const stop = () => {
    done = true;
    clearInterval(timer);
  };
  void pending.then(stop, stop);
}

/** `op` tried again every 250 ms while it throws (Redis away), for at most `boundMs`. */
export async function untilAnswered<T>(op: () => Promise<T>, boundMs: number): Promise<T> {
  const deadline = Date.now() + boundMs;
  for (;;) {
    try {
      return await op();
    } catch (err) {
      if (Date.now() + 250 > deadline) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
