import { afterEach, describe, expect, it, vi } from 'vitest';
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
  afterEach(() => vi.useRealTimers());

  it('a deferred partition is paused at the offset and resumed when due, not before', () => {
    vi.useFakeTimers();
    const c = consumer();
    const p = new PartitionPauses(c);
    p.defer('t', 1, '42', Date.now() + 1000);
    expect(c.calls).toEqual(['pause t/1', 'seek t/1@42']);
    expect(p.deferredUntil('t', 1)).toBeGreaterThan(Date.now());
    vi.advanceTimersByTime(999);
    expect(c.calls).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(c.calls.at(-1)).toBe('resume t/1');
    expect(p.deferredUntil('t', 1)).toBeUndefined();
  });

  it('a held partition is resumed on release only, and a release of one not held does nothing', () => {
    const c = consumer();
    const p = new PartitionPauses(c);
    p.release('t', 0);
    expect(c.calls).toEqual([]);
    p.hold('t', 0, '7');
    expect(p.isHeld('t', 0)).toBe(true);
    p.release('t', 0);
    expect(c.calls).toEqual(['pause t/0', 'seek t/0@7', 'resume t/0']);
    expect(p.isHeld('t', 0)).toBe(false);
  });

  it('after close no timer resumes anything', () => {
    vi.useFakeTimers();
    const c = consumer();
    const p = new PartitionPauses(c);
    p.defer('t', 2, '1', Date.now() + 10);
    p.close();
    vi.advanceTimersByTime(100);
    expect(c.calls).toEqual(['pause t/2', 'seek t/2@1']);
    p.hold('t', 2, '3');
    expect(c.calls).toHaveLength(2);
  });
});
