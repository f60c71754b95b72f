import { afterEach, describe, expect, it, vi } from 'vitest';
import { PAUSE_GAP_MS, pausedSince, watchProcessPauses } from './process-pauses.js';

describe('process pauses', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a gap in the clock longer than the bound is a pause after any earlier time; ticks on time are not', () => {
    vi.useFakeTimers({ now: 1_000_000 });
    vi.resetModules();
    watchProcessPauses();
    const joined = Date.now();
    vi.advanceTimersByTime(30_000); // the ticker runs every second: no gap
    expect(pausedSince(joined)).toBe(false);
    // SIGSTOP: the clock moves on and no timer runs.
    vi.setSystemTime(Date.now() + PAUSE_GAP_MS + 5000);
    expect(pausedSince(joined)).toBe(true);
    // A join after the pause: nothing since then.
    const rejoined = Date.now();
    vi.advanceTimersByTime(5000);
    expect(pausedSince(rejoined)).toBe(false);
  });
});
