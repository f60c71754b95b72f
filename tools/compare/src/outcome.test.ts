import { describe, expect, it } from 'vitest';
import type { CaseRun, SendResult } from './client.js';
import { mismatches } from './expect.js';
import { type LegacyRecord, legacyState, measure, observeLegacy, observePipeline } from './outcome.js';
import { indexProvider, type LedgerBooking, type ProviderCall } from './provider.js';
import { shadowRun } from './runner.js';

const send = (outcome: SendResult['outcome'], id?: string, attempts = 1): SendResult => ({
  index: 0,
  attempts: Array.from({ length: attempts }, (_, i) => ({
    requestId: `r${i}`,
    startedAt: 1000 + i,
    endedAt: 1010 + i,
    outcome,
  })),
  outcome,
  ...(id ? { id } : {}),
});
const run = (sends: SendResult[]): CaseRun => ({
  caseId: 'C1',
  scenario: 's',
  uid: 'u',
  calendarIds: ['cal-x'],
  startedAt: 1000,
  finishedAt: 2000,
  sends,
});
const booking = (bookingId: string, status: LedgerBooking['status'] = 'CONFIRMED'): LedgerBooking => ({
  bookingId,
  externalRef: `ref-${bookingId}`,
  calendarId: 'cal-x',
  status,
});
const post = (ref: string): ProviderCall => ({
  at: 1,
  method: 'POST',
  path: '/api/v2/appointments',
  calendarId: 'cal-x',
  externalRef: ref,
  status: 201,
});

describe('legacy outcomes', () => {
  it('maps a refused booking to REJECTED, a failure or a 429 to FAILED', () => {
    const r = (status: 'CONFIRMED' | 'FAILED', providerStatus?: number): LegacyRecord => ({
      id: 'x',
      calendarId: 'c',
      status,
      ...(providerStatus ? { providerStatus } : {}),
      updatedAt: 1,
    });
    expect(legacyState(r('CONFIRMED'))).toBe('CONFIRMED');
    expect(legacyState(r('FAILED', 409))).toBe('REJECTED');
    expect(legacyState(r('FAILED', 429))).toBe('FAILED');
    expect(legacyState(r('FAILED', 503))).toBe('FAILED');
    expect(legacyState(r('FAILED'))).toBe('FAILED');
  });

  it('counts a booking the legacy recorded as failed as a ghost, and every extra live booking as a duplicate', () => {
    const records: LegacyRecord[] = [
      { id: 'a', calendarId: 'cal-x', status: 'FAILED', updatedAt: 1500 },
      { id: 'b', calendarId: 'cal-x', status: 'FAILED', updatedAt: 1600 },
    ];
    const c = run([send('network', undefined, 2)]);
    const provider = indexProvider([booking('1'), booking('2')], [post('ref-1'), post('ref-2')]);
    const m = measure(c, observeLegacy(c, records, 0), provider);
    expect(m).toMatchObject({
      final_state: 'FAILED',
      latency_ms: 600,
      bookings: 2,
      duplicate_bookings: 1,
      ghost_bookings: 2,
      provider_creates: 2,
      client_retries: 1,
      idempotency: { checked: true, passed: false },
    });
    expect(mismatches(m, { state: 'CONFIRMED', ghost_bookings: 0 })).toEqual([
      'state: expected CONFIRMED, got FAILED',
      'ghost_bookings: expected 0, got 2',
    ]);
  });

  it('says NONE with no latency when nothing was recorded, INVALID when every send was refused as bad', () => {
    const lost = run([send('network')]);
    expect(observeLegacy(lost, [], 1)).toMatchObject({ state: 'NONE', at: null, crashes: 1 });
    const bad = run([send(400)]);
    expect(observeLegacy(bad, [], 0)).toMatchObject({ state: 'INVALID', at: 1010 });
  });
});

describe('pipeline outcomes', () => {
  const view = {
    state: 'CONFIRMED',
    attempts: 3,
    bookingId: '1',
    history: [
      { from: null, to: 'REQUESTED', at: new Date(1000).toISOString() },
      { from: 'RETRY_SCHEDULED', to: 'DEAD_LETTERED', at: new Date(1500).toISOString() },
      { from: 'RECONCILING', to: 'CONFIRMED', at: new Date(2500).toISOString() },
    ],
  };

  it('reads state, retries, DLT and the confirmed booking from the view; latency to the last transition', () => {
    const c = run([send(202, 'apt-1'), send(202, 'apt-1')]);
    const seen = observePipeline(c, new Map([['apt-1', view]]));
    expect(seen).toMatchObject({ state: 'CONFIRMED', at: 2500, retries: 2, dlt: true, compensated: false });
    const m = measure(c, seen, indexProvider([booking('1')], [post('ref-1')]));
    expect(m).toMatchObject({
      latency_ms: 1500,
      ghost_bookings: 0,
      duplicate_bookings: 0,
      idempotency: { checked: true, passed: true },
    });
  });

  it('flags two appointments for one key as MULTIPLE and a failed idempotency assertion', () => {
    const c = run([send(202, 'apt-1'), send(202, 'apt-2')]);
    const m = measure(c, observePipeline(c, new Map([['apt-1', view]])), indexProvider([booking('1')], []));
    expect(m.final_state).toBe('MULTIPLE');
    expect(m.idempotency.passed).toBe(false);
  });
});

describe('expectations', () => {
  const c = run([send(202, 'a'), send(422)]);
  const m = measure(c, observePipeline(c, new Map()), indexProvider([], []));

  it('compares answers in order, or as a multiset for concurrent sends; counts as ranges', () => {
    expect(mismatches(m, { responses: [422, 202] })).toHaveLength(1);
    expect(mismatches(m, { responses: [422, 202] }, { anyOrder: true })).toEqual([]);
    expect(mismatches(m, { provider_creates: { min: 0, max: 5 } })).toEqual([]);
    expect(mismatches(m, { provider_creates: 1 })).toEqual(['provider_creates: expected 1, got 0']);
  });

  it('checks only the keys asked for', () => {
    expect(mismatches(m, { state: 'CONFIRMED', responses: [1] }, { only: ['bookings'] })).toEqual([]);
  });
});

describe('shadowRun', () => {
  it("gives each attempt the shadow's answer to its copy, and the shadow's appointment id", () => {
    // the legacy timed out once, then booked; the shadow took both copies under one appointment
    const legacy = run([send('timeout', undefined, 2)]);
    legacy.sends[0]!.attempts[1]!.outcome = 201;
    const pairs = new Map([
      ['r0', { requestId: 'r0', receivedAt: 1, shadow: { at: 1500, status: 202, id: 'apt-1' } }],
      ['r1', { requestId: 'r1', receivedAt: 2, shadow: { at: 1600, status: 202, id: 'apt-1' } }],
    ]);
    const s = shadowRun(legacy, pairs).sends[0]!;
    expect(s).toMatchObject({ outcome: 202, id: 'apt-1' });
    expect(s.attempts.map((a) => [a.outcome, a.endedAt])).toEqual([
      [202, 1500],
      [202, 1600],
    ]);
  });

  it('counts a copy the mirror dropped as a network failure, and a 4xx with its error code', () => {
    const pairs = new Map([
      ['r0', { requestId: 'r0', receivedAt: 1, shadow: { at: 5, dropped: true as const } }],
    ]);
    expect(shadowRun(run([send(201)]), pairs).sends[0]).toMatchObject({ outcome: 'network' });
    const invalid = new Map([
      [
        'r0',
        { requestId: 'r0', receivedAt: 1, shadow: { at: 5, status: 400, errorCode: 'VALIDATION_FAILED' } },
      ],
    ]);
    const s = shadowRun(run([send(400)]), invalid).sends[0]!;
    expect(s).toMatchObject({ outcome: 400, errorCode: 'VALIDATION_FAILED' });
    expect(s.id).toBeUndefined();
  });
});
