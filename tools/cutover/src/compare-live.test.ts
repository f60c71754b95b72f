// The live comparison over a journal on disk and a status reader: what is decided, what waits for
// the shadow, what accumulates across runs, and what the gate says.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareLive, type StatusReader } from './compare-live.js';
import { journalFile } from './journal.js';
import type { MirroredPair } from './mirror.js';

const DAY = 86_400_000;
const T0 = Date.parse('2026-11-01T10:00:00Z');

function pair(
  n: number,
  legacyStatus: number | undefined,
  shadow: MirroredPair['shadow'],
  at = T0,
): MirroredPair {
  return {
    requestId: `r-${n}`,
    receivedAt: at,
    legacy: legacyStatus === undefined ? { at, error: 'ECONNRESET' } : { at, status: legacyStatus },
    ...(shadow ? { shadow } : {}),
  };
}
const accepted = (id: string) => ({ at: T0, status: 202, id });

function journal(pairs: MirroredPair[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'live-'));
  for (const p of pairs)
    writeFileSync(journalFile(dir, p.receivedAt), `${JSON.stringify(p)}\n`, { flag: 'a' });
  return dir;
}

describe('live shadow comparison', () => {
  it('matches outcomes, names mismatches, ignores what cannot be compared, and waits for the undecided', async () => {
    const states: Record<string, string> = {
      a1: 'CONFIRMED',
      a2: 'REJECTED',
      a3: 'FAILED',
      a4: 'DISPATCHING',
    };
    const status: StatusReader = async (id) => (states[id] ? { state: states[id]! } : undefined);
    const dir = journal([
      pair(1, 201, accepted('a1')), // booked / booked
      pair(2, 422, accepted('a2')), // refused / refused
      pair(3, 201, accepted('a3')), // booked / not booked: a mismatch
      pair(4, 201, accepted('a4')), // the shadow not terminal yet: undecided
      pair(5, undefined, accepted('a1')), // the legacy said nothing conclusive
      pair(6, 201, { at: T0, dropped: 'unreachable' }),
      pair(7, 400, { at: T0, status: 400 }), // invalid / invalid
      pair(8, 201, { at: T0, status: 400 }), // the pipeline stricter: ignored by rule
      pair(9, 422, { at: T0, status: 400 }), // the provider refused what the pipeline refused at its door
    ]);
    // A torn line (the mirror killed mid-write) is skipped and counted.
    writeFileSync(journalFile(dir, T0), '{"torn\n', { flag: 'a' });
    const r = await compareLive({
      journalDir: dir,
      comparisonsPath: join(dir, 'comparisons.jsonl'),
      status,
      boundMs: DAY,
      now: () => T0 + 1000,
    });
    expect(r.counts).toEqual({ match: 3, mismatch: 1, missing: 0, 'candidate-error': 0, ignored: 4 });
    expect(r.journal.undecided).toBe(1);
    expect(r.journal.skipped_lines).toBeGreaterThanOrEqual(1);
    expect(r.mismatches).toEqual({ 'booked → not-booked': 1 });
    expect(r.samples[0]).toMatchObject({
      requestId: 'r-3',
      shadow: { appointmentId: 'a3', state: 'FAILED' },
    });
    expect(r.ignored_by_rule).toEqual({
      'legacy-inconclusive': 1,
      'copy-not-delivered': 1,
      'pipeline-stricter-validation': 2,
    });
    expect(r.gate.passed).toBe(false);
  });

  it('accumulates across runs: decided once, undecided looked at again, missing past the bound', async () => {
    const states: Record<string, string> = { a1: 'CONFIRMED' };
    let reads = 0;
    const status: StatusReader = async (id) => {
      reads++;
      return states[id] ? { state: states[id]! } : undefined;
    };
    const dir = journal([pair(1, 201, accepted('a1')), pair(2, 201, accepted('a2'))]);
    const o = { journalDir: dir, comparisonsPath: join(dir, 'comparisons.jsonl'), status, boundMs: DAY };
    const first = await compareLive({ ...o, now: () => T0 + 1000 });
    expect(first.counts.match).toBe(1);
    expect(first.journal.undecided).toBe(1);
    expect(reads).toBe(2);

    // The next day: more traffic in another day's file; a2 never reached a terminal state.
    writeFileSync(journalFile(dir, T0 + DAY), `${JSON.stringify(pair(3, 422, accepted('a3'), T0 + DAY))}\n`);
    states.a3 = 'REJECTED';
    reads = 0;
    const second = await compareLive({ ...o, now: () => T0 + 2 * DAY });
    expect(reads).toBe(2); // a2 and a3; a1 is decided already and not read again
    expect(second.counts).toMatchObject({ match: 2, missing: 1 });
    expect(second.journal.undecided).toBe(0);
    expect(readFileSync(o.comparisonsPath, 'utf8').trim().split('\n')).toHaveLength(3);
    expect(second.gate.days).toBe(1);
  });

  it('passes the gate only with enough compared requests over enough days and a low enough bound', async () => {
    const status: StatusReader = async () => ({ state: 'CONFIRMED' });
    const pairs = Array.from({ length: 3000 }, (_, i) => pair(i, 201, accepted(`a${i}`), T0 + (i % 8) * DAY));
    const dir = journal(pairs);
    const o = {
      journalDir: dir,
      comparisonsPath: join(dir, 'comparisons.jsonl'),
      status,
      now: () => T0 + 9 * DAY,
    };
    const r = await compareLive(o);
    expect(r.gate).toMatchObject({ compared: 3000, mismatches: 0, days: 7, passed: true });
    expect(r.gate.upper_bound_95).toBeCloseTo(0.001, 6);
    const strict = await compareLive(o, { minDays: 8 });
    expect(strict.gate.passed).toBe(false);
  });
});
