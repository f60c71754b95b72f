// A project's summary over its cases; percentiles from an HDR histogram (3 significant digits).
import hdr from 'hdr-histogram-js';
import type { CaseResult } from './outcome.js';

export interface Percentiles {
  count: number;
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
  max_ms: number | null;
}

export function percentiles(values: number[]): Percentiles {
  if (values.length === 0) return { count: 0, p50_ms: null, p95_ms: null, p99_ms: null, max_ms: null };
  const h = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000,
    numberOfSignificantValueDigits: 3,
  });
  for (const v of values) h.recordValue(Math.max(1, Math.round(v)));
  const out = {
    count: values.length,
    p50_ms: h.getValueAtPercentile(50),
    p95_ms: h.getValueAtPercentile(95),
    p99_ms: h.getValueAtPercentile(99),
    max_ms: h.maxValue,
  };
  h.destroy();
  return out;
}

export interface Summary {
  total: number;
  correct: number;
  success_rate: number;
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
  retries_total: number;
  client_retries_total: number;
  dlt_total: number;
  duplicate_bookings: number;
  ghost_bookings: number;
  idempotency_assertions: { checked: number; passed: number };
  /** Cases with no expectation to check (user files without `expect`). */
  unchecked: number;
  /** Cases whose final state was never recorded (no latency). */
  no_final_state: number;
  /** Sends whose final answer was a timeout, a network error or a 5xx. */
  client_errors: number;
  provider_calls: number;
  crashes?: number;
  by_scenario: Record<string, { total: number; correct: number } & Percentiles>;
}

const isError = (o: CaseResult['responses'][number]) => o === 'timeout' || o === 'network' || o >= 500;

export function summarize(cases: CaseResult[], crashes?: number): Summary {
  const sum = (f: (c: CaseResult) => number) => cases.reduce((n, c) => n + f(c), 0);
  const latencies = (cs: CaseResult[]) => cs.flatMap((c) => (c.latency_ms === null ? [] : [c.latency_ms]));
  const p = percentiles(latencies(cases));
  const checked = cases.filter((c) => c.correct !== null);
  const correct = checked.filter((c) => c.correct).length;
  const scenarios = [...new Set(cases.map((c) => c.scenario))];
  return {
    total: cases.length,
    correct,
    success_rate: checked.length ? Number((correct / checked.length).toFixed(4)) : 0,
    p50_ms: p.p50_ms,
    p95_ms: p.p95_ms,
    p99_ms: p.p99_ms,
    retries_total: sum((c) => c.retries),
    client_retries_total: sum((c) => c.client_retries),
    dlt_total: sum((c) => (c.dlt ? 1 : 0)),
    duplicate_bookings: sum((c) => c.duplicate_bookings),
    ghost_bookings: sum((c) => c.ghost_bookings),
    idempotency_assertions: {
      checked: sum((c) => (c.idempotency.checked ? 1 : 0)),
      passed: sum((c) => (c.idempotency.checked && c.idempotency.passed ? 1 : 0)),
    },
    unchecked: cases.length - checked.length,
    no_final_state: cases.filter((c) => c.latency_ms === null).length,
    client_errors: sum((c) => c.responses.filter(isError).length),
    provider_calls: sum((c) => c.provider_calls),
    ...(crashes !== undefined ? { crashes } : {}),
    by_scenario: Object.fromEntries(
      scenarios.map((s) => {
        const cs = cases.filter((c) => c.scenario === s);
        return [
          s,
          { total: cs.length, correct: cs.filter((c) => c.correct).length, ...percentiles(latencies(cs)) },
        ];
      }),
    ),
  };
}
