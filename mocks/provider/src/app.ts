// The provider mock: /api/v2 as PROVIDER_API.md describes it, a ledger of every booking it holds,
// and a log of every call, so tests can assert "no slot booked twice" and call counts and gaps.
import { randomUUID, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { type Behaviour, behaviourOf, countIn } from './behaviour.js';

export interface MockOptions {
  token: string;
  /** How long a PENDING booking stays pending before it resolves. */
  pendingMs: number;
  /** The retryAfterMs a 202 suggests. */
  pendingRetryAfterMs: number;
  /** How late a `delayed` calendar answers (the booking is committed at once). */
  delayMs: number;
  /** `flaky`: this many 503s before a 201 (unless the calendarId says `cal-flaky-<n>-…`). */
  flakyFailures: number;
  /** `rate-limited`: this many 429s before a 201, each with Retry-After in seconds. */
  rateLimitedFailures: number;
  retryAfterS: number;
  /** Honour Idempotency-Key on create (off by default, as many real providers do not). */
  honourIdempotencyKey: boolean;
  logger?: boolean | object;
}

export const DEFAULT_OPTIONS: Omit<MockOptions, 'token'> = {
  pendingMs: 300,
  pendingRetryAfterMs: 100,
  delayMs: 3000,
  flakyFailures: 2,
  rateLimitedFailures: 1,
  retryAfterS: 1,
  honourIdempotencyKey: false,
};

export type BookingStatus = 'PENDING' | 'CONFIRMED' | 'REJECTED' | 'CANCELLED';

export interface Booking {
  bookingId: string;
  externalRef: string;
  calendarId: string;
  status: BookingStatus;
  createdAt: string;
}

interface StoredBooking extends Booking {
  resolvesAt?: number;
  resolvesTo?: 'CONFIRMED' | 'REJECTED';
}

export interface CallRecord {
  at: number;
  method: string;
  path: string;
  calendarId?: string;
  externalRef?: string;
  status: number | 'dropped';
}

interface CreateBody {
  externalRef?: unknown;
  calendarId?: unknown;
  slot?: { start?: unknown; end?: unknown; timezone?: unknown };
  patient?: { ref?: unknown; displayName?: unknown };
  reason?: unknown;
}

function validateCreate(body: CreateBody | undefined): string[] {
  const d: string[] = [];
  const str = (v: unknown) => typeof v === 'string' && v.length > 0;
  if (!body || typeof body !== 'object') return ['body: must be a JSON object'];
  if (!str(body.externalRef) || (body.externalRef as string).length > 64) d.push('externalRef: 1..64 chars');
  if (!str(body.calendarId)) d.push('calendarId: required');
  if (!str(body.slot?.start) || Number.isNaN(Date.parse(String(body.slot?.start))))
    d.push('slot.start: RFC 3339');
  if (!str(body.slot?.end) || Number.isNaN(Date.parse(String(body.slot?.end)))) d.push('slot.end: RFC 3339');
  if (!str(body.slot?.timezone)) d.push('slot.timezone: required');
  if (!str(body.patient?.ref)) d.push('patient.ref: required');
  if (!str(body.patient?.displayName)) d.push('patient.displayName: required');
  if (body.reason !== undefined && (typeof body.reason !== 'string' || body.reason.length > 500))
    d.push('reason: <= 500 chars');
  return d;
}

export function buildMockApp(opts: Partial<MockOptions> & { token: string }): FastifyInstance {
  const options: MockOptions = { ...DEFAULT_OPTIONS, ...opts };
  const app = Fastify({ logger: options.logger ?? false });
  const bookings = new Map<string, StoredBooking>();
  // The look-up by externalRef is indexed, as a real provider's is: a scan of every booking per
  // look-up made the mock, not the pipeline, the bottleneck once it held tens of thousands.
  const byExternalRef = new Map<string, StoredBooking[]>();
  const byIdempotencyKey = new Map<string, string>();
  const attempts = new Map<string, number>();
  let calls: CallRecord[] = [];
  const arrivals = new WeakMap<FastifyRequest, number>();
  // A provider-wide fault the chaos run switches on and off (POST /__mock/outage): `down` answers
  // every API call 503 without booking; `slow` does the work and answers `slowMs` later.
  let outage: { mode: 'none' } | { mode: 'down' } | { mode: 'slow'; slowMs: number } = { mode: 'none' };
  const expected = Buffer.from(`Bearer ${options.token}`);

  const view = (b: StoredBooking): Booking => {
    if (b.status === 'PENDING' && b.resolvesAt !== undefined && Date.now() >= b.resolvesAt)
      b.status = b.resolvesTo!;
    const { resolvesAt: _a, resolvesTo: _t, ...out } = b;
    return out;
  };
  const record = (req: FastifyRequest, status: CallRecord['status'], body?: CreateBody) => {
    calls.push({
      at: arrivals.get(req) ?? Date.now(),
      method: req.method,
      path: req.url,
      calendarId: typeof body?.calendarId === 'string' ? body.calendarId : undefined,
      externalRef: typeof body?.externalRef === 'string' ? body.externalRef : undefined,
      status,
    });
  };
  const commit = (
    body: CreateBody,
    status: BookingStatus,
    resolve?: 'CONFIRMED' | 'REJECTED',
  ): StoredBooking => {
    const booking: StoredBooking = {
      bookingId: `bk_${randomUUID()}`,
      externalRef: String(body.externalRef),
      calendarId: String(body.calendarId),
      status,
      createdAt: new Date().toISOString(),
      ...(resolve ? { resolvesAt: Date.now() + options.pendingMs, resolvesTo: resolve } : {}),
    };
    bookings.set(booking.bookingId, booking);
    const same = byExternalRef.get(booking.externalRef);
    if (same) same.push(booking);
    else byExternalRef.set(booking.externalRef, [booking]);
    return booking;
  };
  /** Per calendar + externalRef: how many creates this appointment has made so far (1-based). */
  const nth = (body: CreateBody) => {
    const key = `${String(body.calendarId)}\u0000${String(body.externalRef)}`;
    const n = (attempts.get(key) ?? 0) + 1;
    attempts.set(key, n);
    return n;
  };
  const send = (
    req: FastifyRequest,
    reply: FastifyReply,
    status: number,
    payload: unknown,
    body?: CreateBody,
  ) => {
    record(req, status, body);
    return reply.code(status).send(payload);
  };

  app.addHook('onRequest', async (req) => {
    arrivals.set(req, Date.now());
  });

  // Every /api/v2 route needs the token: the hook belongs to this scope's routes, whatever the
  // spelling of the URL the router matched (issue 12).
  app.register(
    async (api) => {
      api.addHook('onRequest', async (req, reply) => {
        const given = Buffer.from(req.headers.authorization ?? '');
        if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
          record(req, 401);
          return reply.code(401).send({ error: 'UNAUTHORIZED' });
        }
        if (outage.mode === 'down') {
          record(req, 503);
          return reply.code(503).send({ error: 'UNAVAILABLE' });
        }
      });
      api.addHook('onSend', async () => {
        if (outage.mode === 'slow')
          await new Promise((r) => setTimeout(r, (outage as { slowMs: number }).slowMs));
      });

      api.post<{ Body: CreateBody }>('/appointments', async (req, reply) => {
        const body = req.body;
        const details = validateCreate(body);
        if (details.length) return send(req, reply, 400, { error: 'INVALID_REQUEST', details }, body);
        const idemKey = req.headers['idempotency-key'];
        if (options.honourIdempotencyKey && typeof idemKey === 'string' && byIdempotencyKey.has(idemKey)) {
          const existing = view(bookings.get(byIdempotencyKey.get(idemKey)!)!);
          return send(req, reply, existing.status === 'PENDING' ? 202 : 201, existing, body);
        }
        const calendarId = String(body.calendarId);
        const behaviour: Behaviour = behaviourOf(calendarId);
        const n = nth(body);
        const created = (b: StoredBooking) => {
          if (options.honourIdempotencyKey && typeof idemKey === 'string')
            byIdempotencyKey.set(idemKey, b.bookingId);
          return b;
        };
        /** Commits a CONFIRMED booking and answers 201. */
        const confirmNow = () => {
          const b = created(commit(body, 'CONFIRMED'));
          return send(
            req,
            reply,
            201,
            { bookingId: b.bookingId, status: 'CONFIRMED', externalRef: b.externalRef },
            body,
          );
        };
        switch (behaviour) {
          case 'immediate':
          case 'cancel-fails': {
            return confirmNow();
          }
          case 'pending':
          case 'pending-rejected': {
            const b = created(commit(body, 'PENDING', behaviour === 'pending' ? 'CONFIRMED' : 'REJECTED'));
            return send(
              req,
              reply,
              202,
              {
                bookingId: b.bookingId,
                status: 'PENDING',
                externalRef: b.externalRef,
                retryAfterMs: options.pendingRetryAfterMs,
              },
              body,
            );
          }
          case 'delayed': {
            // Committed and logged on arrival; the answer comes late (a client may have given up by then).
            const b = created(commit(body, 'CONFIRMED'));
            record(req, 201, body);
            await new Promise((r) => setTimeout(r, options.delayMs));
            return reply
              .code(201)
              .send({ bookingId: b.bookingId, status: 'CONFIRMED', externalRef: b.externalRef });
          }
          case 'flaky': {
            const failures = countIn(calendarId, 'cal-flaky-') ?? options.flakyFailures;
            if (n <= failures) return send(req, reply, 503, { error: 'UNAVAILABLE' }, body);
            return confirmNow();
          }
          case 'always-fail':
            return send(req, reply, 503, { error: 'UNAVAILABLE' }, body);
          case 'slot-taken':
            return send(req, reply, 409, { error: 'SLOT_UNAVAILABLE' }, body);
          case 'rate-limited': {
            if (n <= options.rateLimitedFailures) {
              reply.header('retry-after', String(options.retryAfterS));
              return send(req, reply, 429, { error: 'RATE_LIMITED' }, body);
            }
            return confirmNow();
          }
          case 'ghost': {
            // The provider commits, then the connection drops before any answer.
            if (n === 1) {
              created(commit(body, 'CONFIRMED'));
              record(req, 'dropped', body);
              req.raw.socket.destroy();
              return reply.hijack();
            }
            return confirmNow();
          }
        }
      });

      api.get<{ Params: { id: string } }>('/appointments/:id', async (req, reply) => {
        const b = bookings.get(req.params.id);
        if (!b) return send(req, reply, 404, { error: 'NOT_FOUND' });
        return send(req, reply, 200, view(b));
      });

      api.get<{ Querystring: { externalRef?: string } }>('/appointments', async (req, reply) => {
        const ref = req.query.externalRef;
        if (!ref)
          return send(req, reply, 400, { error: 'INVALID_REQUEST', details: ['externalRef: required'] });
        const items = (byExternalRef.get(ref) ?? []).map(view);
        return send(req, reply, 200, { items });
      });

      api.delete<{ Params: { id: string } }>('/appointments/:id', async (req, reply) => {
        const b = bookings.get(req.params.id);
        if (!b) return send(req, reply, 404, { error: 'NOT_FOUND' });
        if (behaviourOf(b.calendarId) === 'cancel-fails')
          return send(req, reply, 503, { error: 'UNAVAILABLE' });
        b.status = 'CANCELLED';
        b.resolvesAt = undefined;
        return send(req, reply, 200, { status: 'CANCELLED' });
      });
    },
    { prefix: '/api/v2' },
  );

  app.get('/__mock/ledger', async () => ({ bookings: [...bookings.values()].map(view) }));
  app.get('/__mock/calls', async () => ({ calls }));
  // Changes state without a token: only from this machine (issue 12).
  app.post('/__mock/reset', async (req, reply) => {
    if (!/^(127\.|::1$|::ffff:127\.)/.test(req.socket.remoteAddress ?? ''))
      return reply.code(403).send({ error: 'FORBIDDEN', message: 'reset is accepted from loopback only' });
    bookings.clear();
    byExternalRef.clear();
    byIdempotencyKey.clear();
    attempts.clear();
    calls = [];
    return { reset: true };
  });
  app.post<{ Body: { mode?: unknown; slowMs?: unknown } }>('/__mock/outage', async (req, reply) => {
    if (!/^(127\.|::1$|::ffff:127\.)/.test(req.socket.remoteAddress ?? ''))
      return reply.code(403).send({ error: 'FORBIDDEN', message: 'outages are set from loopback only' });
    const { mode, slowMs } = req.body ?? {};
    if (mode === 'none' || mode === 'down') outage = { mode };
    else if (
      mode === 'slow' &&
      Number.isInteger(slowMs) &&
      (slowMs as number) > 0 &&
      (slowMs as number) <= 60_000
    )
      outage = { mode, slowMs: slowMs as number };
    else
      return reply.code(400).send({
        error: 'INVALID_REQUEST',
        details: ['mode: none, down or slow (slow: slowMs an integer 1..60000)'],
      });
    return { outage };
  });
  app.get('/healthz', async () => ({ status: 'ok' }));
  return app;
}
