// Compares a measured case with an expectation. "Correct" is judged on what any booking service
// owes its users (state, live bookings, no duplicates, no ghosts, idempotency); Project B is also
// held to its own contract (answers, provider calls, retries, DLT, compensation).
import type { Count, Expectation, ResponseOutcome } from './data-file.js';
import type { Measured } from './outcome.js';

export const OUTCOME_KEYS = [
  'state',
  'bookings',
  'duplicate_bookings',
  'ghost_bookings',
  'idempotency',
] as const;

type Key = Exclude<keyof Expectation, 'note'>;

function countMatches(want: Count, got: number): boolean {
  return typeof want === 'number' ? got === want : got >= want.min && got <= want.max;
}

function showCount(want: Count): string {
  return typeof want === 'number' ? String(want) : `${want.min}..${want.max}`;
}

function sameResponses(want: ResponseOutcome[], got: ResponseOutcome[], anyOrder: boolean): boolean {
  if (want.length !== got.length) return false;
  const norm = (xs: ResponseOutcome[]) => (anyOrder ? [...xs].map(String).sort() : xs.map(String));
  const a = norm(want);
  const b = norm(got);
  return a.every((v, i) => v === b[i]);
}

const MEASURED_FIELD: Record<
  Exclude<Key, 'state' | 'responses' | 'idempotency' | 'dlt' | 'compensated'>,
  keyof Measured
> = {
  bookings: 'bookings',
  duplicate_bookings: 'duplicate_bookings',
  ghost_bookings: 'ghost_bookings',
  provider_creates: 'provider_creates',
  provider_calls: 'provider_calls',
  retries: 'retries',
  crashes: 'crashes',
};

/**
 * Every way `m` differs from `exp`, as "key: expected X, got Y". `only` limits the keys checked;
 * `anyOrder` compares answers as a multiset (concurrent sends).
 */
export function mismatches(
  m: Measured,
  exp: Expectation,
  { only, anyOrder = false }: { only?: readonly string[]; anyOrder?: boolean } = {},
): string[] {
  const out: string[] = [];
  const wanted = (k: Key) => exp[k] !== undefined && (!only || only.includes(k));
  if (wanted('state') && m.final_state !== exp.state)
    out.push(`state: expected ${exp.state}, got ${m.final_state}`);
  for (const [k, field] of Object.entries(MEASURED_FIELD) as [Key, keyof Measured][]) {
    if (!wanted(k)) continue;
    const got = (m[field] as number | undefined) ?? 0;
    if (!countMatches(exp[k] as Count, got))
      out.push(`${k}: expected ${showCount(exp[k] as Count)}, got ${got}`);
  }
  for (const k of ['dlt', 'compensated'] as const) {
    if (wanted(k) && m[k] !== exp[k]) out.push(`${k}: expected ${exp[k]}, got ${m[k]}`);
  }
  if (wanted('responses') && !sameResponses(exp.responses!, m.responses, anyOrder)) {
    out.push(`responses: expected [${exp.responses!.join(', ')}], got [${m.responses.join(', ')}]`);
  }
  if (wanted('idempotency')) {
    const passed = m.idempotency.passed;
    if (passed !== exp.idempotency)
      out.push(`idempotency: expected ${exp.idempotency ? 'pass' : 'fail'}, got ${passed ? 'pass' : 'fail'}`);
  }
  return out;
}
