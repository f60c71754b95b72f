// The appointment status view, built from the lifecycle topic into Redis: one JSON document per
// appointment, updated atomically by a Lua script that ignores an event it has already applied
// (redelivery, or a handler that ran twice and emitted the same deterministic event id).
import { createHash } from 'node:crypto';
import type { LifecycleTransition } from '@booking/schemas';
import type { Redis } from 'ioredis';
import { type RedisScript, runScript } from './redis-scripts.js';
import { INITIAL_STATE, TRANSITIONS } from './state-machine.js';

export interface AppointmentView {
  appointmentId: string;
  state: string;
  attempts: number;
  bookingId: string | null;
  calendarId: string | null;
  deadline: number | null;
  correlationId: string;
  updatedAt: number | null;
  history: { from: string | null; to: string; at: string; reason: string | null }[];
}

// KEYS[1] the appointment, KEYS[2] the counts by state. ARGV: event JSON, TTL ms; the legal moves
// are written into the script (they change only with the code).
// An event whose `from` is not the current state, or whose move the state machine forbids, is not
// applied: the caller records and alerts it.
const APPLY_LUA = `
local raw = redis.call('GET', KEYS[1])
local doc
if raw then doc = cjson.decode(raw) else doc = { history = {}, events = {}, attempts = 0 } end
local e = cjson.decode(ARGV[1])
for _, id in ipairs(doc.events) do if id == e.eventId then return 'duplicate' end end
local legal = cjson.decode(LEGAL_MOVES_JSON)
local current = doc.state
local from = e.from
if from == cjson.null then from = nil end
if current ~= from then return 'illegal:' .. tostring(current) end
local key = from or '(none)'
local ok = false
for _, to in ipairs(legal[key] or {}) do if to == e.to then ok = true end end
if not ok then return 'illegal:' .. tostring(current) end
table.insert(doc.events, e.eventId)
table.insert(doc.history, { from = e.from, to = e.to, at = e.at, reason = e.reason })
doc.appointmentId = e.appointmentId
doc.state = e.to
doc.correlationId = e.correlationId
doc.updatedAt = e.atMs
if e.attempt > doc.attempts then doc.attempts = e.attempt end
if e.bookingId ~= cjson.null then doc.bookingId = e.bookingId end
if e.calendarId ~= cjson.null then doc.calendarId = e.calendarId end
if e.deadline ~= cjson.null then doc.deadline = e.deadline end
redis.call('SET', KEYS[1], cjson.encode(doc), 'PX', ARGV[2])
if current then redis.call('HINCRBY', KEYS[2], current, -1) end
redis.call('HINCRBY', KEYS[2], e.to, 1)
return 'applied'`;

const LEGAL_MOVES = JSON.stringify({ '(none)': [INITIAL_STATE], ...TRANSITIONS });
const APPLY: RedisScript = {
  name: 'bookingApplyTransition',
  keys: 2,
  lua: `local LEGAL_MOVES_JSON = ${luaString(LEGAL_MOVES)}\n${APPLY_LUA}`,
};

/** A Lua long string holding `text` (the JSON has no closing long brackets). */
function luaString(text: string): string {
  return `[==[${text}]==]`;
}

export type ApplyResult =
  | { kind: 'applied' }
  | { kind: 'duplicate' }
  | { kind: 'illegal'; current: string | null };

export const DEFAULT_PROJECTION_PREFIX = 'apt:';

/** Where the projection lives: `<prefix><appointmentId>` documents and the `<prefix>counts` hash. */
export interface ProjectionKeys {
  prefix: string;
}

export function projectionKey(appointmentId: string, prefix = DEFAULT_PROJECTION_PREFIX): string {
  return `${prefix}${appointmentId}`;
}

/** Applies one transition if it is legal from the current state; says what happened. */
export async function applyTransition(
  redis: Redis,
  event: LifecycleTransition,
  ttlMs: number,
  prefix = DEFAULT_PROJECTION_PREFIX,
): Promise<ApplyResult> {
  const payload = JSON.stringify({
    ...event,
    from: event.from ?? null,
    reason: event.reason ?? null,
    at: new Date(event.at).toISOString(),
    atMs: event.at,
  });
  const r = String(
    await runScript(
      redis,
      APPLY,
      [projectionKey(event.appointmentId, prefix), `${prefix}counts`],
      [payload, String(ttlMs)],
    ),
  );
  if (r === 'applied') return { kind: 'applied' };
  if (r === 'duplicate') return { kind: 'duplicate' };
  const current = r.slice('illegal:'.length);
  return { kind: 'illegal', current: current === 'nil' ? null : current };
}

/** Appointments by current state, as the projection counts them. */
export async function countsByState(
  redis: Redis,
  prefix = DEFAULT_PROJECTION_PREFIX,
): Promise<Record<string, number>> {
  const raw = await redis.hgetall(`${prefix}counts`);
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, Number(v)]));
}

export async function readProjection(
  redis: Redis,
  appointmentId: string,
  prefix = DEFAULT_PROJECTION_PREFIX,
): Promise<AppointmentView | null> {
  const raw = await redis.get(projectionKey(appointmentId, prefix));
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
    deadline: doc.deadline ?? null,
    correlationId: doc.correlationId,
    updatedAt: doc.updatedAt ?? null,
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

/** Every appointment id in the projection (SCAN, so Redis is never blocked). */
export async function projectedIds(redis: Redis, prefix = DEFAULT_PROJECTION_PREFIX): Promise<string[]> {
  const ids: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    for (const k of keys) if (k !== `${prefix}counts`) ids.push(k.slice(prefix.length));
  } while (cursor !== '0');
  return ids;
}
