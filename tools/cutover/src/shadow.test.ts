import { describe, expect, it } from 'vitest';
import {
  classify,
  flatten,
  type IgnoreRule,
  noiseBaseline,
  type Outcome,
  shadowReport,
  upperBound95,
} from './shadow.js';

const o = (requestId: string, fields: Record<string, unknown>, over: Partial<Outcome> = {}): Outcome => ({
  requestId,
  scenario: 'immediate',
  at: 1000,
  fields: flatten(fields),
  ...over,
});
const lost: IgnoreRule = {
  name: 'legacy-lost',
  description: 'the legacy recorded nothing (crash): nothing to compare',
  applies: (l) => l.fields.state === 'NONE',
};

describe('shadow comparator', () => {
  it('flattens to dotted paths and lists the differing ones', () => {
    expect(flatten({ state: 'CONFIRMED', slot: { start: 's' } })).toEqual({
      state: 'CONFIRMED',
      'slot.start': 's',
    });
  });

  it('learns noisy fields from legacy against legacy', () => {
    const a = [
      o('1', { state: 'CONFIRMED', bookingId: 'x' }),
      o('2', { state: 'REJECTED', bookingId: null }),
    ];
    const b = [
      o('1', { state: 'CONFIRMED', bookingId: 'y' }),
      o('2', { state: 'REJECTED', bookingId: null }),
    ];
    expect(noiseBaseline(a, b, 0.3)).toEqual({
      requests: 2,
      rates: { bookingId: 0.5 },
      noisy: ['bookingId'],
    });
  });

  it('classifies match, mismatch (noise subtracted), missing, candidate error and ignored', () => {
    const opts = { noisy: ['bookingId'], rules: [lost], boundMs: 5000 };
    const legacy = o('1', { state: 'CONFIRMED', bookingId: 'a', bookings: 1 });
    expect(classify(legacy, o('1', { state: 'CONFIRMED', bookingId: 'b', bookings: 1 }), opts)).toEqual({
      kind: 'match',
    });
    expect(classify(legacy, o('1', { state: 'REJECTED', bookingId: 'b', bookings: 0 }), opts)).toEqual({
      kind: 'mismatch',
      paths: ['bookings', 'state'],
    });
    expect(classify(legacy, undefined, opts)).toEqual({ kind: 'missing' });
    expect(classify(legacy, o('1', { state: 'CONFIRMED' }, { at: 7000 }), opts)).toEqual({ kind: 'missing' });
    expect(classify(legacy, o('1', {}, { error: 'DEAD_LETTERED' }), opts)).toEqual({
      kind: 'candidate-error',
      error: 'DEAD_LETTERED',
    });
    expect(classify(o('1', { state: 'NONE' }), undefined, opts)).toEqual({
      kind: 'ignored',
      rule: 'legacy-lost',
    });
  });

  it('bounds the mismatch rate: zero in 3,000 passes a 0.1 % gate at 95 %; one does not', () => {
    expect(upperBound95(0, 3000)).toBeCloseTo(0.001, 6);
    expect(upperBound95(1, 3000)!).toBeGreaterThan(0.001);
    expect(upperBound95(0, 0)).toBeNull();
  });

  it('reports counts, match rate per scenario, mismatches by path with samples, ignored by rule, and the gate', () => {
    const legacy = [
      o('1', { state: 'CONFIRMED' }),
      o('2', { state: 'CONFIRMED' }),
      o('3', { state: 'NONE' }, { scenario: 'pending' }),
    ];
    const cand = [o('1', { state: 'CONFIRMED' }), o('2', { state: 'REJECTED' })];
    const { report } = shadowReport(
      legacy,
      cand,
      { requests: 0, rates: {}, noisy: [] },
      { rules: [lost], boundMs: 5000, requiredCompared: 2 },
    );
    expect(report.counts).toEqual({ match: 1, mismatch: 1, missing: 0, 'candidate-error': 0, ignored: 1 });
    expect(report.by_scenario.immediate).toEqual({ requests: 2, match: 1, mismatch: 1, match_rate: 0.5 });
    expect(report.mismatches_by_path.state).toEqual({
      count: 1,
      samples: [{ requestId: '2', legacy: 'CONFIRMED', candidate: 'REJECTED' }],
    });
    expect(report.ignored_by_rule['legacy-lost']!.count).toBe(1);
    expect(report.gate).toMatchObject({ compared: 2, mismatches: 1, passed: false });
  });
});
