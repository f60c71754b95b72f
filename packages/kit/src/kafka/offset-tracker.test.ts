import { describe, expect, it } from 'vitest';
import { decodeFinished, encodeFinished, MAX_METADATA_CHARS, OffsetTracker } from './offset-tracker.js';

describe('OffsetTracker', () => {
  it('keeps the position at the lowest unfinished record and lists what finished above it', () => {
    const t = new OffsetTracker();
    expect(t.position).toBeUndefined();
    for (const o of [10n, 11n, 12n, 13n]) t.begin(o);
    t.finish(13n);
    t.finish(12n);
    expect(t.position).toBe(10n);
    expect(t.finishedAbove).toEqual([12n, 13n]);
    t.finish(10n);
    expect(t.position).toBe(11n);
    t.finish(11n);
    expect(t.position).toBe(14n);
    expect(t.finishedAbove).toEqual([]);
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

  it('passes offsets that held no record (aborted, markers) only once everything below is finished', () => {
    const t = new OffsetTracker();
    t.begin(0n);
    t.begin(1n);
    t.advanceTo(5n); // 2, 3, 4: an aborted transaction and its marker
    t.finish(1n);
    expect(t.position).toBe(0n);
    t.finish(0n);
    expect(t.position).toBe(5n);
    t.advanceTo(8n); // nothing open: at once
    expect(t.position).toBe(8n);
    expect(() => t.begin(7n)).toThrow(/must ascend/);
    t.begin(8n);
    t.advanceTo(3n); // behind: ignored
    t.finish(8n);
    expect(t.position).toBe(9n);
  });
});

describe('finished offsets in commit metadata', () => {
  it('round-trips, relative to the position', () => {
    const { metadata, dropped } = encodeFinished(1000n, [1002n, 1040n, 99_999n]);
    expect(metadata).toBe(`bk1:2,14,${(98_999).toString(36)}`);
    expect(dropped).toBe(0);
    expect([...decodeFinished(1000n, metadata)]).toEqual([1002n, 1040n, 99_999n]);
    expect(encodeFinished(5n, [])).toEqual({ metadata: null, dropped: 0 });
  });

  it("reads metadata with the trailing NUL that librdkafka's Node binding sends (and no other)", () => {
    const { metadata } = encodeFinished(1000n, [1002n, 1040n]);
    expect([...decodeFinished(1000n, `${metadata}\u0000`)]).toEqual([1002n, 1040n]);
    expect(decodeFinished(1000n, `${metadata}\u0000\u0000`).size).toBe(0);
  });

  it('stays under the bound, leaving out the highest', () => {
    const many = Array.from({ length: 2000 }, (_, i) => 10n + BigInt(i * 1000));
    const { metadata, dropped } = encodeFinished(0n, many);
    expect(metadata!.length).toBeLessThanOrEqual(MAX_METADATA_CHARS);
    expect(dropped).toBeGreaterThan(0);
    const back = decodeFinished(0n, metadata);
    expect(back.size).toBe(2000 - dropped);
    expect(back.has(10n)).toBe(true);
  });

  it('reads nothing from metadata that is not ours or not well formed', () => {
    for (const m of [
      null,
      '',
      'other',
      'bk1:',
      'bk1:-1',
      'bk1:0',
      'bk1:zzzzzzzzzzzzz',
      'bk1:1,,2',
      `bk1:${'1,'.repeat(2000)}1`,
    ])
      expect(decodeFinished(0n, m).size).toBe(0);
  });
});
