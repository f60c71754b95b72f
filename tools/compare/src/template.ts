// Placeholders in a case's request, resolved when the case is sent (docs/comparison.md):
// {{uid}}, {{slotStart}}, {{slotEnd}}, {{pastStart}}, {{pastEnd}} inside strings, and a string that
// is exactly {{now+MS}} becomes a number (epoch ms), for fields such as `deadline`.
const DAY = 86_400_000;
const HOUR = 3_600_000;
const NOW_PLUS = /^\{\{now\+(\d+)\}\}$/;
const TOKEN = /\{\{(\w+)\}\}/g;

export interface TemplateContext {
  uid: string;
  now: number;
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

function values(ctx: TemplateContext): Record<string, string> {
  const future = Math.floor((ctx.now + 30 * DAY) / HOUR) * HOUR;
  const past = Math.floor((ctx.now - DAY) / HOUR) * HOUR;
  return {
    uid: ctx.uid,
    slotStart: iso(future),
    slotEnd: iso(future + 30 * 60_000),
    pastStart: iso(past),
    pastEnd: iso(past + 30 * 60_000),
  };
}

export function resolveString(text: string, ctx: TemplateContext): string | number {
  const plus = NOW_PLUS.exec(text);
  if (plus) return ctx.now + Number(plus[1]);
  const v = values(ctx);
  return text.replace(TOKEN, (whole, name: string) => v[name] ?? whole);
}

/** A deep copy of `value` with every placeholder resolved. */
export function resolve<T>(value: T, ctx: TemplateContext): T {
  if (typeof value === 'string') return resolveString(value, ctx) as T;
  if (Array.isArray(value)) return value.map((v) => resolve(v, ctx)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v, ctx)])) as T;
  }
  return value;
}

/** Merges `patch` into a copy of `body` (objects merged key by key; anything else replaced). */
export function mergePatch(body: unknown, patch: Record<string, unknown> | null | undefined): unknown {
  if (!patch) return body;
  if (!body || typeof body !== 'object' || Array.isArray(body)) return patch;
  const out: Record<string, unknown> = { ...(body as Record<string, unknown>) };
  for (const [k, v] of Object.entries(patch)) {
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) ? mergePatch(out[k], v as Record<string, unknown>) : v;
  }
  return out;
}
