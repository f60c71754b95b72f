import { describe, expect, it } from 'vitest';
import { current, healthOf, type LifecycleEvent, type LifecycleState, next } from './lifecycle.js';

const run = (events: LifecycleEvent[], from: LifecycleState = { kind: 'starting', epoch: 1 }) =>
  events.reduce(next, from);

describe('the consumer lifecycle', () => {
  it('a join, a rebalance and a join again keep the epoch; work of the epoch stays current', () => {
    const s = run([
      { kind: 'joined', memberId: 'm1', generation: 4, at: 0 },
      { kind: 'rebalance', at: 10 },
      { kind: 'joined', memberId: 'm1', generation: 5, at: 20 },
    ]);
    expect(s).toMatchObject({ kind: 'joined', epoch: 1, generation: 5 });
    expect(current(s, 1)).toBe(true);
  });

  it('a failure, then a restart: a new epoch, and the old epoch is stale', () => {
    const s = run([
      { kind: 'joined', memberId: 'm1', generation: 1, at: 0 },
      { kind: 'failed', cause: 'crash', at: 5 },
      { kind: 'failed', cause: 'crash', at: 7 },
    ]);
    expect(s).toMatchObject({ kind: 'restarting', attempt: 2, since: 5 });
    expect(current(s, 1)).toBe(false);
    const again = run(
      [
        { kind: 'restarted', at: 9 },
        { kind: 'joined', memberId: 'm2', generation: 2, at: 12 },
      ],
      s,
    );
    expect(again).toMatchObject({ kind: 'joined', epoch: 2, memberId: 'm2' });
    expect(current(again, 1)).toBe(false);
    expect(current(again, 2)).toBe(true);
  });

  it("a join while restarting is the replaced consumer's, not ours; nothing leaves stopped", () => {
    const restarting = run([{ kind: 'failed', cause: 'stuck', at: 0 }]);
    expect(next(restarting, { kind: 'joined', memberId: 'ghost', generation: 3, at: 1 })).toBe(restarting);
    const stopped = run([{ kind: 'stop' }]);
    for (const e of [
      { kind: 'joined', memberId: 'm', generation: 1, at: 0 },
      { kind: 'restarted', at: 0 },
    ] as LifecycleEvent[])
      expect(next(stopped, e)).toBe(stopped);
  });

  it('health: joined is healthy, a long rebalance is not, and every other state says why', () => {
    expect(healthOf({ kind: 'joined', epoch: 1, memberId: 'm', generation: 1, since: 0 }, 5)).toEqual({
      healthy: true,
    });
    expect(healthOf({ kind: 'rebalancing', epoch: 1, memberId: 'm', since: 0 }, 30_000).healthy).toBe(true);
    expect(healthOf({ kind: 'rebalancing', epoch: 1, memberId: 'm', since: 0 }, 61_000)).toMatchObject({
      healthy: false,
    });
    expect(healthOf({ kind: 'restarting', epoch: 1, cause: 'fenced', attempt: 3, since: 0 }, 0).reason).toBe(
      'restarting after fenced (attempt 3)',
    );
    expect(healthOf({ kind: 'starting', epoch: 1 }, 0).reason).toBe('not joined yet');
    expect(healthOf({ kind: 'stopped', epoch: 1 }, 0).reason).toBe('stopped');
  });
});
