import { describe, expect, it } from 'vitest';
import { recordTimeFinder } from './record-time.js';

// A partition whose records 0..4 carry these timestamps (ms); ListOffsets by time semantics.
const times = [1_000, 2_000, 2_000, 5_000, 9_500];
const offsetAtTime = async (_t: string, _p: number, ts: number) => {
  const i = times.findIndex((t) => t >= ts);
  return i === -1 ? times.length : i;
};

describe('record time by binary search over ListOffsets', () => {
  it('finds the timestamp of the record at each offset', async () => {
    const find = recordTimeFinder(offsetAtTime, () => 20_000);
    expect(await find('t', 0, 0)).toBe(1_000);
    expect(await find('t', 0, 3)).toBe(5_000);
    expect(await find('t', 0, 4)).toBe(9_500);
  });

  it('gives the earlier equal timestamp for records sharing one, and null below the log start', async () => {
    const find = recordTimeFinder(offsetAtTime, () => 20_000);
    expect(await find('t', 0, 1)).toBe(2_000);
    const trimmed = recordTimeFinder(
      async (...a) => Math.max(2, await offsetAtTime(...a)),
      () => 20_000,
    );
    expect(await trimmed('t', 0, 1)).toBeNull();
  });
});
