import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ACKNOWLEDGED_RULE,
  acknowledgedAcceptancesExist,
  acknowledgedFromFile,
  duplicateTerminalEvents,
} from './acceptances.js';
import { checkInvariants } from './invariants.js';

const evidence = { requested: new Set(['a', 'b', 'c']), lifecycleRequested: new Set(['a', 'c', 'd']) };

describe('every acknowledged acceptance exists', () => {
  it('names ids missing their requested record or their REQUESTED event, once each', () => {
    const r = acknowledgedAcceptancesExist(['a', 'b', 'd', 'e', 'b'], evidence);
    expect(r).toEqual({ name: ACKNOWLEDGED_RULE, passed: false, appointmentIds: ['b', 'd', 'e'] });
    expect(acknowledgedAcceptancesExist(['a', 'c'], evidence).passed).toBe(true);
  });

  it('fails the whole report for an acknowledged booking that exists nowhere, which the projection cannot show', () => {
    const report = checkInvariants({
      appointments: [],
      bookings: new Map(),
      acceptances: { acknowledged: ['ghost-of-a-202'], evidence },
    });
    expect(report.passed).toBe(false);
    expect(report.invariants.find((i) => i.name === ACKNOWLEDGED_RULE)?.appointmentIds).toEqual([
      'ghost-of-a-202',
    ]);
  });

  it('reads acknowledgements as a JSON array or as JSON lines, and none from a missing file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'acks-'));
    writeFileSync(join(dir, 'a.json'), JSON.stringify(['x', 'y', 3]));
    writeFileSync(join(dir, 'b.jsonl'), '{"appointmentId":"x"}\n{"other":1}\n{"appointmentId":"z"}\n');
    expect(acknowledgedFromFile(join(dir, 'a.json'))).toEqual(['x', 'y']);
    expect(acknowledgedFromFile(join(dir, 'b.jsonl'))).toEqual(['x', 'z']);
    expect(acknowledgedFromFile(join(dir, 'none.json'))).toEqual([]);
  });
});

describe('duplicate terminal events on the lifecycle topic', () => {
  it('names an appointment with two outcomes, not the saga undoing a confirmation nor one without any', () => {
    const terminalEvents = new Map<string, string[]>([
      ['once', ['CONFIRMED']],
      ['undone', ['CONFIRMED', 'COMPENSATED']],
      ['twice', ['CONFIRMED', 'CONFIRMED']],
      ['both', ['FAILED', 'CONFIRMED']],
    ]);
    const ev = { ...evidence, terminalEvents };
    expect(duplicateTerminalEvents(['once', 'undone', 'twice', 'both', 'open', 'twice'], ev)).toEqual([
      'twice',
      'both',
    ]);
    expect(duplicateTerminalEvents(['twice'], evidence)).toEqual([]);
  });
});
