import { describe, expect, it } from 'vitest';
import { OffsetTracker } from './offset-tracker.js';

describe('OffsetTracker', () => {
  it('commits only past the finished prefix when records finish out of order', () => {
    const t = new OffsetTracker();
    for (const o of [10n, 11n, 12n, 13n]) t.begin(o);
    t.finish(12n);
    t.finish(13n);
    expect(t.take()).toBeUndefined();
    expect(t.lowestOpen).toBe(10n);
    t.finish(10n);
    expect(t.take()).toBe(11n);
    expect(t.take()).toBeUndefined();
    t.finish(11n);
    expect(t.take()).toBe(14n);
    expect(t.inFlight).toBe(0);
    expect(t.lowestOpen).toBeUndefined();
  });

  it('refuses offsets that do not ascend, and finishing what was never begun', () => {
    const t = new OffsetTracker();
    t.begin(5n);
    expect(() => t.begin(5n)).toThrow(/must ascend/);
    expect(() => t.finish(6n)).toThrow(/not open/);
  });
});
