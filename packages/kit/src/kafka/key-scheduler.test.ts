import { describe, expect, it, vi } from 'vitest';
import { KeyScheduler } from './key-scheduler.js';

/** A task that finishes when told to, recording its start. */
function gate(log: string[], name: string) {
  let open!: () => void;
  const done = new Promise<void>((r) => {
    open = r;
  });
  return {
    task: async () => {
      log.push(`start ${name}`);
      await done;
      log.push(`end ${name}`);
      return name;
    },
    open: () => open(),
  };
}
const tick = () => new Promise((r) => setImmediate(r));

describe('KeyScheduler', () => {
  it("keeps one key's tasks in order while another key's run past a slow one", async () => {
    const s = new KeyScheduler(4);
    const log: string[] = [];
    const slow = gate(log, 'a1');
    const a2 = gate(log, 'a2');
    const b1 = gate(log, 'b1');
    const results = [s.run('a', slow.task), s.run('a', a2.task), s.run('b', b1.task)];
    await tick();
    expect(log).toEqual(['start a1', 'start b1']);
    b1.open();
    await tick();
    expect(log).toContain('end b1');
    expect(log).not.toContain('start a2');
    slow.open();
    await tick();
    a2.open();
    expect(await Promise.all(results)).toEqual(['a1', 'a2', 'b1']);
    expect(log.indexOf('end a1')).toBeLessThan(log.indexOf('start a2'));
    await s.idle();
    expect(s.pending).toBe(0);
  });

  it('runs at most `limit` tasks at a time, the oldest waiting key next', async () => {
    const s = new KeyScheduler(2);
    const log: string[] = [];
    const g = ['k1', 'k2', 'k3', 'k4'].map((k) => gate(log, k));
    const all = g.map((x, i) => s.run(`k${i + 1}`, x.task));
    await tick();
    expect(log).toEqual(['start k1', 'start k2']);
    g[1]!.open();
    await tick();
    expect(log).toEqual(['start k1', 'start k2', 'end k2', 'start k3']);
    for (const x of g) x.open();
    await Promise.all(all);
  });

  it('passes a failure to its caller and goes on with the key', async () => {
    const s = new KeyScheduler(1);
    const failed = s.run('a', async () => {
      throw new Error('boom');
    });
    const next = s.run('a', async () => 'next');
    await expect(failed).rejects.toThrow('boom');
    expect(await next).toBe('next');
  });

  it('a task not due yet sleeps without a slot: other keys run meanwhile, its own key waits behind it', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    try {
      const s = new KeyScheduler(1);
      const log: string[] = [];
      const done = [
        s.run('a', async () => log.push('a1'), Date.now() + 1000),
        s.run('a', async () => log.push('a2')),
        s.run('b', async () => log.push('b1')),
      ];
      await vi.advanceTimersByTimeAsync(10);
      expect(log).toEqual(['b1']); // the only slot was free for b while a slept
      expect(s.pending).toBe(2);
      await vi.advanceTimersByTimeAsync(1000);
      await Promise.all(done);
      expect(log).toEqual(['b1', 'a1', 'a2']);
    } finally {
      vi.useRealTimers();
    }
  });

  it('after close, what sleeps never starts', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    try {
      const s = new KeyScheduler(2);
      const log: string[] = [];
      void s.run('a', async () => log.push('a1'), Date.now() + 100);
      s.close();
      await vi.advanceTimersByTimeAsync(500);
      expect(log).toEqual([]);
    } finally {
      vi.useRealTimers();
    }
  });
});
