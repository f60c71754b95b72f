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
  };
}
const m = (...offsets: number[]) => offsets.map((o) => ({ offset: String(o) }));

describe('PartitionPauses', () => {
  it('a held partition is paused once and keeps its records in order; resumed on release only', () => {
    const c = consumer();
    const p = new PartitionPauses<{ offset: string }>(c);
    p.release('t', 0);
    expect(c.calls).toEqual([]);
    p.hold('t', 0, m(7, 8), '9');
    // Records of a fetch already under way when it was paused: after the backlog, none twice.
    p.hold('t', 0, m(8, 9, 10), '12');
    expect(p.isHeld('t', 0)).toBe(true);
    expect(p.backlogs()).toEqual([{ topic: 't', partition: 0, messages: m(7, 8, 9, 10), end: '12' }]);
    p.release('t', 0);
    p.release('t', 0);
    expect(c.calls).toEqual(['pause t/0', 'resume t/0']);
    expect(p.isHeld('t', 0)).toBe(false);
    expect(p.backlogs()).toEqual([]);
  });

  it('lists backlogs in the order they were held', () => {
    const p = new PartitionPauses<{ offset: string }>(consumer());
    p.hold('u', 3, m(9), undefined);
    p.hold('t', 0, m(1), '2');
    expect(p.backlogs().map((b) => `${b.topic}/${b.partition}`)).toEqual(['u/3', 't/0']);
  });

  it('a revoked partition loses its backlog and is resumed, so it is not paused if it comes back', () => {
    const c = consumer();
    const p = new PartitionPauses<{ offset: string }>(c);
    p.forget('t', 1);
    p.hold('t', 1, m(4), undefined);
    p.forget('t', 1);
    expect(c.calls).toEqual(['pause t/1', 'resume t/1']);
    expect(p.backlogs()).toEqual([]);
  });

  it('after close nothing is paused, resumed or kept', () => {
    const c = consumer();
    const p = new PartitionPauses<{ offset: string }>(c);
    p.hold('t', 2, m(1), undefined);
    p.close();
    p.release('t', 2);
    p.hold('t', 2, m(3), undefined);
    expect(c.calls).toEqual(['pause t/2']);
    expect(p.backlogs()).toEqual([]);
  });
});
