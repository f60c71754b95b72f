import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { httpCase, MARKERS, recordValue, ruleCase } from './cases.js';

describe('fuzz cases', () => {
  // About 1 s alone; several times that when turbo runs every package's tests at once on two cores.
  it('are reproducible from a seed and cover the hostile shapes', { timeout: 60_000 }, () => {
    const a = fc.sample(httpCase('k'.repeat(20), 1), { numRuns: 300, seed: 7 });
    const b = fc.sample(httpCase('k'.repeat(20), 1), { numRuns: 300, seed: 7 });
    // The same requests (times and keys aside, which follow the clock).
    const shape = (c: { method: string; path: string; kind: string }) => [c.method, c.path, c.kind];
    expect(a.map(shape)).toEqual(b.map(shape));
    const kinds = a.map((c) => c.kind).join('\n');
    for (const k of ['none', 'wrong', 'text/plain', 'bad time', 'random json']) expect(kinds).toContain(k);
    expect(a.some((c) => c.path.includes('%76'))).toBe(true);
  });

  it('breaks a valid record in every way named, oversized ones rarely', () => {
    const valid = Buffer.from([0, 0, 0, 0, 9, 2, 97, 0]);
    const sample = fc.sample(recordValue({ valid, ownId: 9, foreign: Buffer.from([0, 0, 0, 0, 3, 0]) }), {
      numRuns: 2000,
      seed: 3,
    });
    const counts = new Map<string, number>();
    for (const s of sample) counts.set(s.kind, (counts.get(s.kind) ?? 0) + 1);
    for (const k of [
      'random bytes',
      'wrong magic byte',
      'other subject',
      'truncated',
      'garbage body',
      'oversized',
    ])
      expect(counts.get(k), k).toBeGreaterThan(0);
    expect(counts.get('oversized')!).toBeLessThan(60);
    expect(sample.find((s) => s.kind === 'wrong magic byte')!.value[0]).not.toBe(0);
    expect(MARKERS.name).toMatch(/Markerperson/);
  });

  it('cover every HTTP rule class, each with the answer it must get', () => {
    const sample = fc.sample(ruleCase('k'.repeat(20), 1, '127.0.0.1:3000'), { numRuns: 400, seed: 5 });
    const by = new Map<string, Set<number>>();
    for (const c of sample) {
      const cls = c.kind
        .split(' ')
        .slice(0, c.kind.startsWith('control') ? 2 : 1)
        .join(' ');
      by.set(cls, (by.get(cls) ?? new Set()).add(c.expect));
    }
    expect(Object.fromEntries([...by].map(([k, v]) => [k, [...v]]))).toEqual({
      scheme: [202],
      repeated: [400],
      'content-encoding': [415],
      'control character': [422],
    });
    const twice = sample.find((c) => c.kind === 'repeated host')!;
    expect(twice.request.headers.filter(([n]) => n === 'host')).toHaveLength(2);
    const auth = sample.find((c) => c.kind === 'repeated authorization')!;
    expect(auth.request.headers.filter(([n]) => n === 'authorization')).toHaveLength(2);
    const ctype = sample.find((c) => c.kind === 'repeated content-type')!;
    expect(ctype.request.headers.filter(([n]) => n === 'content-type')).toHaveLength(2);
  });
});
