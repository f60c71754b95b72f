// The appointment status view, built from the lifecycle topic into Redis: one JSON document per
// appointment, updated atomically by a Lua script that ignores an event it has already applied
// (redelivery, or a handler that ran twice and emitted the same deterministic event id).
import { createHash } from 'node:crypto';
import type { LifecycleTransition } from '@booking/schemas';
import type { Redis } from 'ioredis';

export interface AppointmentView {
  appointmentId: string;
  state: string;
  attempts: number;
  bookingId: string | null;
  calendarId: string | null;
  correlationId: string;
  history: { from: string | null; to: string; at: string; reason: string | null }[];
}

const APPLY = `
local raw = redis.call('GET', KEYS[1])
local doc
if raw then doc = cjson.decode(raw) else doc = { history = {}, events = {}, attempts = 0 } end
local e = cjson.decode(ARGV[1])
for _, id in ipairs(doc.events) do if id == e.eventId then return 0 end end
table.insert(doc.events, e.eventId)
table.insert(doc.history, { from = e.from, to = e.to, at = e.at, reason = e.reason })
doc.appointmentId = e.appointmentId
doc.state = e.to
doc.correlationId = e.correlationId
if e.attempt > doc.attempts then doc.attempts = e.attempt end
if e.bookingId ~= cjson.null then doc.bookingId = e.bookingId end
if e.calendarId ~= cjson.null then doc.calendarId = e.calendarId end
redis.call('SET', KEYS[1], cjson.encode(doc), 'PX', ARGV[2])
return 1`;

export function projectionKey(appointmentId: string): string {
  return `apt:${appointmentId}`;
}

/** Applies one transition; false when this event was already applied. */
export async function applyTransition(
  redis: Redis,
  event: LifecycleTransition,
  ttlMs: number,
): Promise<boolean> {
  const payload = JSON.stringify({
    ...event,
    from: event.from ?? null,
    reason: event.reason ?? null,
    at: new Date(event.at).toISOString(),
  });
  return (await redis.eval(APPLY, 1, projectionKey(event.appointmentId), payload, String(ttlMs))) === 1;
}

export async function readProjection(redis: Redis, appointmentId: string): Promise<AppointmentView | null> {
  const raw = await redis.get(projectionKey(appointmentId));
  if (!raw) return null;
  const doc = JSON.parse(raw) as AppointmentView & { events?: unknown; history: unknown };
  // cjson encodes an empty table as {}; and JSON null fields come back absent.
  const history = Array.isArray(doc.history) ? doc.history : [];
  return {
    appointmentId: doc.appointmentId,
    state: doc.state,
    attempts: doc.attempts ?? 0,
    bookingId: doc.bookingId ?? null,
    calendarId: doc.calendarId ?? null,
    correlationId: doc.correlationId,
    history: history.map((h) => ({ from: h.from ?? null, to: h.to, at: h.at, reason: h.reason ?? null })),
  };
}

/**
 * The appointment id for a request, derived from who sent it and their idempotency key: a replay
 * of the same request (after a crash, a redelivery) gets the same id, so nothing downstream can
 * make it a second appointment. UUID layout, version 8 (custom).
 */
export function appointmentIdFor(scope: string, idempotencyKey: string): string {
  const b = createHash('sha256').update(`${scope}\u0000${idempotencyKey}`).digest();
  b[6] = (b[6]! & 0x0f) | 0x80;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.subarray(0, 16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
