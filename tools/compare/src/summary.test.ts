import { describe, expect, it } from 'vitest';
import { deltas } from './aggregate.js';
import type { CaseResult } from './outcome.js';
import { percentiles, summarize } from './summary.js';
import { caseResult } from './test-fixtures.js';

const result = (over: Partial<CaseResult>) =>
  caseResult({ case_id: 'x', scenario: 's', latency_ms: 10, ...over });

describe('summary', () => {
  it('percentiles of 1..100 ms', () => {
    const p = percentiles(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(p).toMatchObject({ count: 100, p50_ms: 50, p95_ms: 95, p99_ms: 99, max_ms: 100 });
    expect(percentiles([]).p50_ms).toBeNull();
  });

  it('totals, success rate over checked cases, errors, and idempotency assertions', () => {
    const s = summarize([
      result({}),
      result({
        correct: false,
        duplicate_bookings: 2,
        ghost_bookings: 1,
        responses: ['timeout', 502],
        latency_ms: null,
      }),
      result({ correct: null, idempotency: { checked: true, passed: true }, dlt: true, retries: 3 }),
    ]);
    expect(s).toMatchObject({
      total: 3,
      correct: 1,
      success_rate: 0.5,
      unchecked: 1,
      duplicate_bookings: 2,
      ghost_bookings: 1,
      client_errors: 2,
      dlt_total: 1,
      retries_total: 3,
      no_final_state: 1,
      idempotency_assertions: { checked: 1, passed: 1 },
    });
  });

  it('deltas are B − A, with a change in percent when A is not 0', () => {
    const a = summarize([result({ duplicate_bookings: 4 })]);
    const b = summarize([result({})]);
    expect(deltas(a, b).duplicate_bookings).toEqual({ A: 4, B: 0, delta: -4, change_pct: -100 });
  });
});
