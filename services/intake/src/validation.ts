// The request rules, shared by HTTP and Kafka (issue 3): every problem is reported with its field.
import { z } from 'zod';
import { offsetMismatch, parseDateTime } from './time-rules.js';

const E164 = /^\+[1-9]\d{1,14}$/;
const MIN_DURATION_MS = 5 * 60_000;
const MAX_DURATION_MS = 8 * 60 * 60_000;
/** How far ahead a slot or a deadline may lie, by default (BOOKING_HORIZON_DAYS). */
export const DEFAULT_HORIZON_MS = 730 * 24 * 60 * 60_000;
/**
 * Idempotency-Key: 8..255 printable ASCII characters, not starting or ending with a space (an
 * inbound record's key of eight spaces passed, issue 31; HTTP trims a header's spaces anyway).
 */
export const IDEMPOTENCY_KEY = /^[\x21-\x7E][\x20-\x7E]{6,253}[\x21-\x7E]$/;

/** X-Correlation-Id, on both doors: plain and bounded, or replaced by a fresh id. */
export const CORRELATION_ID = /^[\w.:-]{1,128}$/;
/** W3C trace context, version 00 (https://www.w3.org/TR/trace-context/#traceparent-header). */
export const TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** The caller's correlation id when well-formed, else `fallback` (HTTP: the request id). */
export const correlationIdOr = (given: unknown, fallback: string): string =>
  typeof given === 'string' && CORRELATION_ID.test(given) ? given : fallback;

/** The caller's W3C traceparent when well-formed, else nothing (a hostile one is dropped). */
export const validTraceparent = (given: unknown): string | undefined =>
  typeof given === 'string' && TRACEPARENT.test(given) ? given : undefined;

/**
 * Characters no free-text field may hold (issue 31): the C0 controls (NUL, ESC, CR, LF, TAB …), DEL,
 * the C1 controls, and the Unicode bidirectional embeddings, overrides and isolates (U+202A–U+202E,
 * U+2066–U+2069; "Trojan Source", CVE-2021-42574). A name with ESC [ or CR LF reaches every
 * terminal, log viewer and header that prints it downstream; an override makes it read otherwise.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
export const UNSAFE_TEXT = /[\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/;
export const UNSAFE_TEXT_MESSAGE =
  'must not contain control characters (C0, DEL, C1) or Unicode bidi overrides';
/** How deep the walk for unsafe text goes; a body nested deeper is refused by its schema anyway. */
const MAX_WALK_DEPTH = 16;

/** A field path as it is reported, with any unsafe character of a key shown as \uXXXX. */
const shown = (path: string) =>
  path.replace(
    new RegExp(UNSAFE_TEXT.source, 'gu'),
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );

/**
 * Every string of a request (HTTP body or inbound record, any field, known or not) that holds an
 * unsafe character, as a field error. One walk for both doors.
 */
export function unsafeTextErrors(value: unknown, path = '', depth = 0): FieldError[] {
  if (typeof value === 'string')
    return UNSAFE_TEXT.test(value) ? [{ field: shown(path || '(body)'), message: UNSAFE_TEXT_MESSAGE }] : [];
  if (value === null || typeof value !== 'object' || depth >= MAX_WALK_DEPTH) return [];
  const out: FieldError[] = [];
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
  for (const [k, v] of entries) {
    const at = path ? `${path}.${k}` : k;
    if (UNSAFE_TEXT.test(k)) out.push({ field: shown(at), message: UNSAFE_TEXT_MESSAGE });
    out.push(...unsafeTextErrors(v, at, depth + 1));
    if (out.length >= 50) break;
  }
  return out;
}

// Building an Intl.DateTimeFormat costs tens of microseconds: it was a fifth of Kafka intake's CPU
// under load (docs/benchmark.md). Answers are remembered, at most ZONE_CACHE_MAX of them, so
// garbage zones cannot grow the cache without bound.
const ZONE_CACHE_MAX = 2000;
const zoneCache = new Map<string, boolean>();

export function isIanaZone(zone: string): boolean {
  const known = zoneCache.get(zone);
  if (known !== undefined) return known;
  let valid = false;
  if (/^[A-Za-z]/.test(zone)) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: zone });
      valid = true;
    } catch {
      valid = false;
    }
  }
  if (zoneCache.size >= ZONE_CACHE_MAX) zoneCache.clear();
  zoneCache.set(zone, valid);
  return valid;
}

const time = z
  .string()
  .max(40)
  .superRefine((v, ctx) => {
    const parsed = parseDateTime(v);
    if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.message });
  });

const fields = {
  patient: z.strictObject({
    id: z.string().min(1).max(128),
    name: z.string().min(1).max(200),
    phone: z.string().regex(E164, 'must be E.164, e.g. +441632960000').nullable().optional(),
    email: z.email('must be a valid email address').max(254).nullable().optional(),
  }),
  calendarId: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 of A-Z a-z 0-9 . _ -'),
  slot: z.strictObject({
    start: time,
    end: time,
    timezone: z.string().refine(isIanaZone, 'must be an IANA time zone, e.g. Europe/London'),
  }),
  reason: z.string().max(500).nullable().optional(),
  deadline: z.number().int().positive().nullable().optional(),
};

type Body = {
  slot: { start: string; end: string };
  deadline?: number | null;
};

/**
 * Cross-field rules; `now` is injected so tests need no clock tricks. Each time was parsed already
 * (field rules); a value that did not parse has its own error and is skipped here.
 */
function timing(now: () => number, horizonMs: number, deadlineFrom: () => number = now) {
  return (body: Body & { slot: { timezone: string } }, ctx: z.RefinementCtx) => {
    const s = parseDateTime(body.slot.start);
    const e = parseDateTime(body.slot.end);
    for (const [field, p] of [
      ['start', s],
      ['end', e],
    ] as const) {
      const wrong =
        p.ok && isIanaZone(body.slot.timezone) ? offsetMismatch(p, body.slot.timezone) : undefined;
      if (wrong) ctx.addIssue({ code: 'custom', path: ['slot', field], message: wrong });
    }
    const horizon = now() + horizonMs;
    const days = Math.round(horizonMs / 86_400_000);
    if (body.deadline != null && body.deadline > horizon)
      ctx.addIssue({ code: 'custom', path: ['deadline'], message: `must be within ${days} days` });
    const expired = body.deadline != null && body.deadline <= deadlineFrom();
    if (!s.ok || !e.ok) {
      if (expired)
        ctx.addIssue({ code: 'custom', path: ['deadline'], message: 'must be in the future (epoch ms)' });
      return;
    }
    const start = s.ms;
    const end = e.ms;
    if (start > horizon)
      ctx.addIssue({ code: 'custom', path: ['slot', 'start'], message: `must be within ${days} days` });
    if (end <= start)
      ctx.addIssue({ code: 'custom', path: ['slot', 'end'], message: 'must be after slot.start' });
    else if (end - start < MIN_DURATION_MS || end - start > MAX_DURATION_MS) {
      ctx.addIssue({
        code: 'custom',
        path: ['slot', 'end'],
        message: 'the slot must last from 5 minutes to 8 hours',
      });
    }
    if (start < now())
      ctx.addIssue({ code: 'custom', path: ['slot', 'start'], message: 'must not be in the past' });
    if (expired)
      ctx.addIssue({ code: 'custom', path: ['deadline'], message: 'must be in the future (epoch ms)' });
  };
}

export function httpBodySchema(now: () => number = Date.now, horizonMs = DEFAULT_HORIZON_MS) {
  return z
    .strictObject({ ...fields, source: z.string().min(1).max(64).optional() })
    .superRefine(timing(now, horizonMs));
}

/**
 * `publishedAt`: when the record was written (its timestamp, never later than now). Its deadline is
 * judged against that: a request that was valid when published and expired while it waited in
 * Kafka (a broker outage, a backlog) is accepted and then ends FAILED (DEADLINE_EXCEEDED) like any
 * booking whose deadline passes, visible on the lifecycle topic, instead of a dead letter that names
 * no appointment. The slot is still judged against now: a slot in the past is never booked.
 */
export function inboundRecordSchema(
  now: () => number = Date.now,
  horizonMs = DEFAULT_HORIZON_MS,
  publishedAt: () => number = now,
) {
  return z
    .strictObject({
      ...fields,
      idempotencyKey: z
        .string()
        .regex(IDEMPOTENCY_KEY, 'must be 8-255 printable characters, not starting or ending with a space'),
      source: z.string().min(1).max(64),
    })
    .superRefine(timing(now, horizonMs, publishedAt));
}

export type HttpBody = z.infer<ReturnType<typeof httpBodySchema>>;

export interface FieldError {
  field: string;
  message: string;
}

export function fieldErrors(error: z.ZodError): FieldError[] {
  return error.issues.map((i) => {
    if (i.code === 'unrecognized_keys') {
      const base = i.path.join('.');
      return { field: i.keys.map((k) => (base ? `${base}.${k}` : k)).join(', '), message: 'unknown field' };
    }
    const field = i.path.join('.') || '(body)';
    return { field, message: i.code === 'invalid_type' && i.input === undefined ? 'required' : i.message };
  });
}

type ValidFields = z.infer<ReturnType<typeof httpBodySchema>>;

/** The validated fields as the AppointmentRequested contract holds them (absent → null). */
export function toRequest(f: Omit<ValidFields, 'source'>) {
  return {
    patient: {
      id: f.patient.id,
      name: f.patient.name,
      phone: f.patient.phone ?? null,
      email: f.patient.email ?? null,
    },
    calendarId: f.calendarId,
    slot: f.slot,
    reason: f.reason ?? null,
    deadline: f.deadline ?? null,
  };
}
