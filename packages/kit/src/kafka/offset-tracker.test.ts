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

  it('reports since when the lowest open record has been open, moving as the prefix finishes', () => {
    const t = new OffsetTracker();
    t.begin(1n, 100);
    t.begin(2n, 200);
    t.finish(2n);
    expect(t.lowestOpenSince).toBe(100);
    t.finish(1n);
    expect(t.lowestOpenSince).toBeUndefined();
    t.begin(3n, 300);
    expect(t.lowestOpenSince).toBe(300);
  });

  it('commits past offsets that held no record (aborted, markers) only once everything below is finished', () => {
    const t = new OffsetTracker();
    t.begin(0n);
    t.begin(1n);
    t.advanceTo(5n); // 2, 3, 4: an aborted transaction and its marker
    expect(t.take()).toBeUndefined();
    t.finish(1n);
    expect(t.take()).toBeUndefined();
    t.finish(0n);
    expect(t.take()).toBe(5n);
    t.advanceTo(8n); // nothing open: at once
    expect(t.take()).toBe(8n);
    expect(() => t.begin(7n)).toThrow(/must ascend/);
    t.begin(8n);
    t.advanceTo(3n); // behind: ignored
    t.finish(8n);
    expect(t.take()).toBe(9n);
  });
});
