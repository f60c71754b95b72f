// The evidence section: what it gathers for a wrong legacy case, what it masks, and what it prints
// beside the pipeline's trail.
import { describe, expect, it } from 'vitest';
import type { CaseRun } from './client.js';
import { legacyEvidence, pipelineEvidence, renderEvidence } from './evidence.js';
import type { LegacyRecord, PipelineView } from './outcome.js';
import { indexProvider } from './provider.js';
import { caseResult } from './test-fixtures.js';

const T = Date.parse('2026-12-01T10:00:00Z');
const run: CaseRun = {
  caseId: 'C02',
  scenario: 'pending',
  uid: 'u1',
  calendarIds: ['cal-pending-u1'],
  startedAt: T,
  finishedAt: T + 3000,
  sends: [
    {
      index: 0,
      attempts: [
        { requestId: 'req-a', startedAt: T, endedAt: T + 100, outcome: 'network', error: 'socket hang up' },
        { requestId: 'req-b', startedAt: T + 1000, endedAt: T + 1200, outcome: 201 },
      ],
      outcome: 201,
      id: 'apt-1',
    },
  ],
};
const records: LegacyRecord[] = [
  { id: 'L-2', calendarId: 'cal-pending-u1', status: 'CONFIRMED', bookingId: 'bk-2', updatedAt: T + 1150 },
  { id: 'L-9', calendarId: 'cal-other', status: 'CONFIRMED', bookingId: 'bk-9', updatedAt: T },
];
const lines = [
  { at: T + 50, fields: { service: 'legacy-supervisor', restarts: 1, exitCode: 1, msg: 'exited' } },
  {
    at: T + 1150,
    fields: { bookingRef: 'L-2', bookingId: 'bk-2', patientName: 'Ada Lovelace', msg: 'booked' },
  },
  { at: T + 10, fields: { bookingRef: 'L-9', msg: 'booked' } },
  { at: T + 60_000, fields: { service: 'legacy-supervisor', restarts: 2, exitCode: 1, msg: 'exited' } },
];
const provider = indexProvider(
  [{ bookingId: 'bk-1', externalRef: 'L-1', calendarId: 'cal-pending-u1', status: 'PENDING' }],
  [
    {
      at: T + 20,
      method: 'POST',
      path: '/api/v2/appointments',
      calendarId: 'cal-pending-u1',
      externalRef: 'L-1',
      status: 202,
    },
    {
      at: T + 1100,
      method: 'POST',
      path: '/api/v2/appointments',
      calendarId: 'cal-pending-u1',
      externalRef: 'L-2',
      status: 201,
    },
    {
      at: T + 30,
      method: 'POST',
      path: '/api/v2/appointments',
      calendarId: 'cal-other',
      externalRef: 'L-9',
      status: 201,
    },
  ],
);

describe('evidence', () => {
  it("gathers the case's requests, rows, provider answers and log lines, and masks personal fields", () => {
    const e = legacyEvidence(run, records, lines, provider);
    expect(e.requests).toEqual([
      { requestId: 'req-a', send: 0, answer: 'network', error: 'socket hang up' },
      { requestId: 'req-b', send: 0, answer: 201 },
    ]);
    expect(e.rows).toEqual([
      { id: 'L-2', status: 'CONFIRMED', bookingId: 'bk-2', at: new Date(T + 1150).toISOString() },
    ]);
    expect(e.provider.map((p) => p.status)).toEqual([202, 201]);
    // Its own row's line and the crash while it ran; not another case's line, not a later crash.
    expect(e.log).toEqual([
      { service: 'legacy-supervisor', restarts: 1, exitCode: 1, msg: 'exited' },
      { bookingRef: 'L-2', bookingId: 'bk-2', patientName: '[REDACTED]', msg: 'booked' },
    ]);
  });

  it('prints each wrong legacy case next to the pipeline trail of the same case', () => {
    const views = new Map<string, PipelineView>([
      [
        'apt-1',
        {
          state: 'CONFIRMED',
          attempts: 1,
          history: [
            { from: null, to: 'REQUESTED', at: '2026-12-01T10:00:00.010Z', reason: null },
            { from: 'REQUESTED', to: 'DISPATCHING', at: '2026-12-01T10:00:00.020Z' },
            { from: 'DISPATCHING', to: 'PENDING', at: '2026-12-01T10:00:00.030Z' },
            { from: 'PENDING', to: 'CONFIRMED', at: '2026-12-01T10:00:01.000Z', reason: 'poll' },
          ],
        },
      ],
    ]);
    const a = caseResult({
      case_id: 'C02',
      scenario: 'pending',
      final_state: 'CONFIRMED',
      correct: false,
      duplicate_bookings: 1,
      mismatches: ['bookings: expected 1, got 2'],
      evidence: { legacy: legacyEvidence(run, records, lines, provider) },
    });
    const fine = caseResult({ case_id: 'C01' });
    const b = caseResult({
      case_id: 'C02',
      scenario: 'pending',
      evidence: { pipeline: pipelineEvidence(run, views) },
    });
    const text = renderEvidence([a, fine], [b]);
    expect(text).toContain('### C02 (pending): legacy CONFIRMED, expected CONFIRMED, 1 duplicate booking(s)');
    expect(text).not.toContain('### C01');
    expect(text).toContain('req-a send 0 → network (socket hang up)');
    expect(text).toContain('L-2 CONFIRMED booking bk-2');
    expect(text).toContain('POST /api/v2/appointments → 202');
    expect(text).toContain('"patientName":"[REDACTED]"');
    expect(text).not.toContain('Ada');
    expect(text).toContain('PENDING → CONFIRMED (poll)');
    expect(renderEvidence([fine], [])).toContain('No canonical case goes wrong');
  });
});
