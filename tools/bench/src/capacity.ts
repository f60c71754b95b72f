// The sustained capacity, found by search: the highest rate at which the pipeline keeps up for the
// whole step (the load generator on schedule, the last booking final within `tailBoundMs` of the
// last send, nothing lost). Rates grow by `factor` from `start` until a step fails, then the gap
// between the last pass and the first fail is halved until it is under a tenth of the pass.
import type { PipelineResult } from './measure.js';

export interface CapacityStep {
  rate: number;
  passed: boolean;
  /** Why it failed, or what it reached. */
  reason: string;
  /** From the last send to the last final state seen (how far behind the pipeline ended). */
  tail_ms: number | null;
  confirmed_per_s: number | null;
  offered_per_s: number;
  unfinished: number;
  p95_scheduled_to_confirmed_ms: number | null;
}

export function judgeStep(
  r: PipelineResult,
  tailMs: number | null,
  o: { tailBoundMs: number },
): CapacityStep {
  const fails: string[] = [];
  if (r.offered_per_s < r.target_rate_per_s * 0.95)
    fails.push(`the generator offered ${r.offered_per_s}/s only`);
  if (r.unfinished > 0) fails.push(`${r.unfinished} not final after the drain bound`);
  if (tailMs === null || tailMs > o.tailBoundMs)
    fails.push(`the last booking final ${tailMs === null ? '–' : Math.round(tailMs)} ms after the last send`);
  return {
    rate: r.target_rate_per_s,
    passed: fails.length === 0,
    reason: fails.length ? fails.join('; ') : `kept up (tail ${Math.round(tailMs ?? 0)} ms)`,
    tail_ms: tailMs === null ? null : Math.round(tailMs),
    confirmed_per_s: r.confirmed_per_s,
    offered_per_s: r.offered_per_s,
    unfinished: r.unfinished,
    p95_scheduled_to_confirmed_ms: r.latency_scheduled_to_seen_confirmed.p95_ms,
  };
}

/** The next rate to try, or undefined when the search is done. */
export function nextRate(
  steps: readonly CapacityStep[],
  o: { start: number; factor: number; maxSteps: number },
): number | undefined {
  if (steps.length === 0) return o.start;
  if (steps.length >= o.maxSteps) return undefined;
  const passes = steps.filter((s) => s.passed).map((s) => s.rate);
  const fails = steps.filter((s) => !s.passed).map((s) => s.rate);
  const best = passes.length ? Math.max(...passes) : 0;
  const lowestFail = fails.length ? Math.min(...fails.filter((f) => f > best)) : Number.POSITIVE_INFINITY;
  if (!Number.isFinite(lowestFail)) return round10(Math.max(best, o.start) * o.factor);
  if (best === 0) {
    // Even the first rate failed: go down.
    const next = round10(lowestFail / o.factor);
    return next >= 10 && next < lowestFail ? next : undefined;
  }
  if (lowestFail - best <= best / 10) return undefined;
  const mid = round10((best + lowestFail) / 2);
  return mid > best && mid < lowestFail ? mid : undefined;
}

/** The capacity the steps show: the highest rate that passed below every failure, or 0. */
export function capacityOf(steps: readonly CapacityStep[]): number {
  const passes = steps.filter((s) => s.passed).map((s) => s.rate);
  return passes.length ? Math.max(...passes) : 0;
}

const round10 = (n: number) => Math.max(10, Math.round(n / 10) * 10);
