// results/aggregated_metrics.json: both summaries side by side, with B − A for every number.
import type { ProjectResults } from './runner.js';
import type { Summary } from './summary.js';

export const COMPARED = [
  'total',
  'correct',
  'success_rate',
  'p50_ms',
  'p95_ms',
  'p99_ms',
  'retries_total',
  'client_retries_total',
  'dlt_total',
  'duplicate_bookings',
  'ghost_bookings',
  'client_errors',
  'provider_calls',
  'no_final_state',
] as const satisfies readonly (keyof Summary)[];

export interface Delta {
  A: number | null;
  B: number | null;
  /** B − A */
  delta: number | null;
  /** (B − A) / A in percent, when A is not 0 */
  change_pct: number | null;
}

export function deltas(a: Summary | undefined, b: Summary | undefined): Record<string, Delta> {
  const out: Record<string, Delta> = {};
  const pick = (
    s: Summary | undefined,
    k: (typeof COMPARED)[number] | 'idempotency_pass_rate',
  ): number | null => {
    if (!s) return null;
    if (k === 'idempotency_pass_rate') {
      const { checked, passed } = s.idempotency_assertions;
      return checked ? Number((passed / checked).toFixed(4)) : null;
    }
    return s[k];
  };
  for (const k of [...COMPARED, 'idempotency_pass_rate'] as const) {
    const A = pick(a, k);
    const B = pick(b, k);
    const delta = A !== null && B !== null ? Number((B - A).toFixed(4)) : null;
    const change_pct = delta !== null && A ? Number(((delta / A) * 100).toFixed(1)) : null;
    out[k] = { A, B, delta, change_pct };
  }
  return out;
}

export function aggregate(results: ProjectResults[], meta: Record<string, unknown>) {
  const a = results.find((r) => r.project === 'A');
  const b = results.find((r) => r.project === 'B');
  return {
    ...meta,
    generated_at: new Date().toISOString(),
    A: a ? { name: a.name, summary: a.summary } : null,
    B: b ? { name: b.name, summary: b.summary } : null,
    deltas: deltas(a?.summary, b?.summary),
  };
}
