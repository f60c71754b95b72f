import { describe, expect, it } from 'vitest';
import { type CapacityStep, capacityOf, nextRate } from './capacity.js';

const step = (rate: number, passed: boolean): CapacityStep => ({
  rate,
  passed,
  reason: '',
  tail_ms: 0,
  confirmed_per_s: rate,
  offered_per_s: rate,
  unfinished: 0,
  p95_scheduled_to_confirmed_ms: 1,
});
const o = { start: 200, factor: 1.5, maxSteps: 10 };

describe('capacity search', () => {
  it('grows by the factor until a step fails, then halves the gap until it is under a tenth', () => {
    const steps: CapacityStep[] = [];
    const limit = 640;
    for (let r = nextRate(steps, o); r !== undefined; r = nextRate(steps, o)) steps.push(step(r, r <= limit));
    expect(steps.map((s) => s.rate).slice(0, 4)).toEqual([200, 300, 450, 680]);
    const found = capacityOf(steps);
    expect(found).toBeLessThanOrEqual(limit);
    expect(found).toBeGreaterThan(limit * 0.9);
  });

  it('goes down when the first rate fails, and stops at the step bound', () => {
    expect(nextRate([step(200, false)], o)).toBe(130);
    const many = Array.from({ length: 10 }, (_, i) => step(100 + i, true));
    expect(nextRate(many, o)).toBeUndefined();
    expect(capacityOf([step(200, false)])).toBe(0);
  });
});
