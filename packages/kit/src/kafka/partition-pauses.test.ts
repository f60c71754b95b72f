import { describe, expect, it } from 'vitest';
import { PartitionPauses } from './partition-pauses.js';

function consumer() {
  const calls: string[] = [];
  return {
    calls,
    pause: (t: { topic: string; partitions: number[] }[]) =>
      calls.push(`pause ${t[0]!.topic}/${t[0]!.partitions}`),
    resume: (t: { topic: string; partitions: number[] }[]) =>
      calls.push(`resume ${t[0]!.topic}/${t[0]!.partitions}`),
    seek: (s: { topic: string; partition: number; offset: string }) =>
      calls.push(`seek ${s.topic}/${s.partition}@${s.offset}`),
  };
}

describe('PartitionPauses', () => {
  it('a held partition is paused at the offset and resumed on release only; a release of one not held does nothing', () => {
    const c = consumer();
    const p = new PartitionPauses(c);
    p.release('t', 0);
    expect(c.calls).toEqual([]);
    p.hold('t', 0, '7');
    expect(p.isHeld('t', 0)).toBe(true);
    p.release('t', 0);
    p.release('t', 0);
    expect(c.calls).toEqual(['pause t/0', 'seek t/0@7', 'resume t/0']);
    expect(p.isHeld('t', 0)).toBe(false);
  });

  it('after close nothing is paused or resumed', () => {
    const c = consumer();
    const p = new PartitionPauses(c);
    p.hold('t', 2, '1');
    p.close();
    p.release('t', 2);
    p.hold('t', 2, '3');
    expect(c.calls).toEqual(['pause t/2', 'seek t/2@1']);
  });

  it('releases every held partition at once', () => {
    const c = consumer();
    const p = new PartitionPauses(c);
    p.hold('t', 0, '1');
    p.hold('u', 3, '9');
    p.releaseAll();
    expect(c.calls.filter((x) => x.startsWith('resume'))).toEqual(['resume t/0', 'resume u/3']);
    expect(p.isHeld('u', 3)).toBe(false);
  });
});
