import { describe, expect, it } from 'vitest';
import { partitionStatus, type Sample, worst } from './status.js';

const SIZE = 5;
/** Samples one second apart ending at t=10 s; committedAt follows the offsets. */
function window(offsets: number[], lags: number[]): Sample[] {
  let committedAt = 0;
  return offsets.map((committed, i) => {
    const at = 10_000 - (offsets.length - 1 - i) * 1000;
    if (i === 0 || committed !== offsets[i - 1]) committedAt = at;
    return { at, committed, lag: lags[i]!, committedAt };
  });
}

describe('status rules (Burrow)', () => {
  it('OK when the newest lag is zero (within the allowance), even after a lagging window', () => {
    expect(partitionStatus(window([1, 1, 1, 1, 1], [5, 5, 5, 5, 0]), SIZE, 10_000, 5_000)).toBe('OK');
    expect(partitionStatus([], SIZE, 10_000, 5_000)).toBe('OK');
  });

  it('OK while committing and catching up or holding', () => {
    expect(partitionStatus(window([1, 3, 5, 7, 9], [9, 8, 8, 7, 5]), SIZE, 10_000, 5_000)).toBe('OK');
  });

  it('WARN when the lag grows at every sample across a full window although offsets move', () => {
    expect(partitionStatus(window([1, 2, 3, 4, 5], [2, 3, 4, 5, 6]), SIZE, 10_000, 5_000)).toBe('WARN');
    // not a full window yet: no verdict beyond OK
    expect(partitionStatus(window([1, 2, 3], [2, 3, 4]), SIZE, 10_000, 5_000)).toBe('OK');
  });

  it('STALL when the committed offset never moves across a full window with lag', () => {
    const w = window([4, 4, 4, 4, 4], [3, 3, 3, 3, 3]).map((s) => ({ ...s, committedAt: 9_000 }));
    expect(partitionStatus(w, SIZE, 10_000, 5_000)).toBe('STALL');
  });

  it('STOP when the offset has not moved for longer than stopAfterMs, with lag', () => {
    const w = window([4, 4, 4, 4, 4], [3, 3, 3, 3, 3]).map((s) => ({ ...s, committedAt: 1_000 }));
    expect(partitionStatus(w, SIZE, 10_000, 5_000)).toBe('STOP');
  });

  it('REWIND when the committed offset goes backwards', () => {
    expect(partitionStatus(window([10, 12, 5, 6, 7], [1, 2, 9, 8, 7]), SIZE, 10_000, 5_000)).toBe('REWIND');
  });

  it('a group takes its worst partition status', () => {
    expect(worst(['OK', 'WARN', 'OK'])).toBe('WARN');
    expect(worst(['STALL', 'REWIND'])).toBe('STALL');
    expect(worst([])).toBe('OK');
  });
});
