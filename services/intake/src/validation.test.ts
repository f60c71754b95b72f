import { describe, expect, it } from 'vitest';
import {
  correlationIdOr,
  fieldErrors,
  httpBodySchema,
  IDEMPOTENCY_KEY,
  inboundRecordSchema,
  isIanaZone,
  UNSAFE_TEXT_MESSAGE,
  unsafeTextErrors,
  validTraceparent,
} from './validation.js';

const NOW = Date.parse('2030-06-01T00:00:00Z');
const valid = {
  patient: { id: 'p-1', name: 'A', phone: '+441234567890', email: 'a@example.org' },
  calendarId: 'cal-immediate.A_1',
  slot: { start: '2030-06-02T09:00:00+01:00', end: '2030-06-02T09:30:00+01:00', timezone: 'Europe/London' },
  reason: null,
  deadline: NOW + 60_000,
};
const errorsOf = (body: unknown) => {
  const r = httpBodySchema(() => NOW).safeParse(body);
  return r.success ? [] : fieldErrors(r.error);
};

describe('request validation', () => {
  it('accepts a valid body, with optional fields absent', () => {
    expect(errorsOf(valid)).toEqual([]);
    expect(
      errorsOf({ ...valid, reason: undefined, deadline: undefined, patient: { id: 'p', name: 'N' } }),
    ).toEqual([]);
  });

  it.each([
    [{ patient: { ...valid.patient, name: 'x'.repeat(201) } }, 'patient.name'],
    [{ patient: { ...valid.patient, phone: '+0123' } }, 'patient.phone'],
    [{ patient: { ...valid.patient, email: 'a@' } }, 'patient.email'],
    [{ calendarId: 'x'.repeat(65) }, 'calendarId'],
    [{ calendarId: 'a/b' }, 'calendarId'],
    [{ slot: { ...valid.slot, start: '2030-06-02T09:00:00' } }, 'slot.start'],
    [{ slot: { ...valid.slot, timezone: 'Europe/Nowhere' } }, 'slot.timezone'],
    [{ slot: { ...valid.slot, timezone: '+01:00' } }, 'slot.timezone'],
    [{ slot: { ...valid.slot, end: '2030-06-02T09:04:59+01:00' } }, 'slot.end'],
    [{ slot: { ...valid.slot, end: '2030-06-02T17:00:01+01:00' } }, 'slot.end'],
    [{ slot: { start: '2030-05-31T09:00:00Z', end: '2030-05-31T10:00:00Z', timezone: 'UTC' } }, 'slot.start'],
    [{ reason: 'x'.repeat(501) }, 'reason'],
    [{ deadline: NOW }, 'deadline'],
    [{ unknown: 1 }, 'unknown'],
  ])('refuses %j at %s', (override, field) => {
    expect(errorsOf({ ...valid, ...override }).map((e) => e.field)).toContain(field);
  });

  // Issue 12: these passed the old regex and became NaN (the cross-field rules then returned early).
  it.each([
    ['month 13', '2030-13-02T09:00:00+01:00'],
    ['hour 25', '2030-06-02T25:00:00+01:00'],
    ['second 60', '2030-06-02T09:00:60+01:00'],
    ['offset +99:99', '2030-06-02T09:00:00+99:99'],
    ['Feb 30 (used to roll over to March 2)', '2031-02-30T09:00:00+00:00'],
  ])('refuses a start that is no date-time: %s', (_name, start) => {
    expect(errorsOf({ ...valid, slot: { ...valid.slot, start } }).map((e) => e.field)).toContain(
      'slot.start',
    );
  });

  it('still checks the deadline when a time does not parse (the old NaN path let deadline: 1 through)', () => {
    const errors = errorsOf({
      ...valid,
      slot: { ...valid.slot, start: '2030-13-02T09:00:00+01:00' },
      deadline: 1,
    });
    expect(errors.map((e) => e.field)).toEqual(expect.arrayContaining(['slot.start', 'deadline']));
  });

  it("refuses an offset that is not the zone's at that instant, and accepts Z for any zone", () => {
    // London is +01:00 in June: +00:00 there is an hour off.
    const wrong = errorsOf({
      ...valid,
      slot: { ...valid.slot, start: '2030-06-02T09:00:00+00:00', end: '2030-06-02T09:30:00+00:00' },
    });
    expect(wrong.map((e) => e.field)).toEqual(['slot.start', 'slot.end']);
    expect(wrong[0]!.message).toMatch(/\+00:00 is not Europe\/London's at that instant \(\+01:00\)/);
    expect(
      errorsOf({
        ...valid,
        slot: { ...valid.slot, start: '2030-06-02T08:00:00Z', end: '2030-06-02T08:30:00Z' },
      }),
    ).toEqual([]);
    // Winter: London is +00:00.
    expect(
      errorsOf({
        ...valid,
        slot: {
          start: '2030-12-02T09:00:00+00:00',
          end: '2030-12-02T09:30:00+00:00',
          timezone: 'Europe/London',
        },
      }),
    ).toEqual([]);
  });

  it('bounds how far ahead a slot and a deadline may lie (2 years by default, or as configured)', () => {
    const far = {
      start: '2032-06-02T09:00:00+01:00',
      end: '2032-06-02T09:30:00+01:00',
      timezone: 'Europe/London',
    };
    expect(errorsOf({ ...valid, slot: far }).map((e) => e.field)).toEqual(['slot.start']);
    expect(errorsOf({ ...valid, deadline: NOW + 800 * 86_400_000 }).map((e) => e.field)).toEqual([
      'deadline',
    ]);
    const r = httpBodySchema(() => NOW, 3 * 365 * 86_400_000).safeParse({ ...valid, slot: far });
    expect(r.success).toBe(true);
  });

  it('accepts exactly 5 minutes and exactly 8 hours', () => {
    expect(errorsOf({ ...valid, slot: { ...valid.slot, end: '2030-06-02T09:05:00+01:00' } })).toEqual([]);
    expect(errorsOf({ ...valid, slot: { ...valid.slot, end: '2030-06-02T17:00:00+01:00' } })).toEqual([]);
  });

  it('requires the key and source in Kafka records', () => {
    const r = inboundRecordSchema(() => NOW).safeParse(valid);
    expect(r.success).toBe(false);
    expect(r.success ? [] : fieldErrors(r.error).map((e) => e.field)).toEqual(
      expect.arrayContaining(['idempotencyKey', 'source']),
    );
  });

  it('knows IANA zones and key shapes', () => {
    expect(isIanaZone('America/New_York')).toBe(true);
    expect(isIanaZone('Not/AZone')).toBe(false);
    // answered from the cache the second time, the same answer; thousands of distinct garbage
    // zones (the cache's bound) do not change what a real zone gets
    expect(isIanaZone('America/New_York')).toBe(true);
    expect(isIanaZone('Not/AZone')).toBe(false);
    for (let i = 0; i < 2500; i++) isIanaZone(`Garbage/Zone${i}`);
    expect(isIanaZone('Europe/London')).toBe(true);
    expect(isIanaZone('Garbage/Zone1')).toBe(false);
    expect(IDEMPOTENCY_KEY.test('abcdefgh')).toBe(true);
    expect(IDEMPOTENCY_KEY.test('abc\ndefgh')).toBe(false);
  });
});

describe('unsafe text (issue 31)', () => {
  it('finds C0, DEL, C1 and bidi overrides in every string, nested or unknown, and in keys', () => {
    const errors = unsafeTextErrors({
      patient: { id: 'ok', name: 'a\u0007b' },
      reason: 'x\u007f',
      extra: ['\u009b', { deep: '\u2066' }],
      'k\u001b': 'fine',
      fine: 'Zoë Ångström — 山田 \u200d',
    });
    expect(errors.map((e) => e.field)).toEqual([
      'patient.name',
      'reason',
      'extra.0',
      'extra.1.deep',
      'k\\u001b',
    ]);
    expect(errors[0]?.message).toBe(UNSAFE_TEXT_MESSAGE);
    expect(unsafeTextErrors(valid)).toEqual([]);
  });

  it('correlation ids and traceparents are kept only when well-formed', () => {
    expect(correlationIdOr('corr-1.a:b', 'x')).toBe('corr-1.a:b');
    expect(correlationIdOr('a b', 'x')).toBe('x');
    expect(correlationIdOr('c'.repeat(129), 'x')).toBe('x');
    expect(validTraceparent('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01')).toBeDefined();
    expect(validTraceparent('00-zz')).toBeUndefined();
  });

  it('an Idempotency-Key may not begin or end with a space', () => {
    expect(IDEMPOTENCY_KEY.test('        ')).toBe(false);
    expect(IDEMPOTENCY_KEY.test(' abcdefgh')).toBe(false);
    expect(IDEMPOTENCY_KEY.test('abcdefgh ')).toBe(false);
    expect(IDEMPOTENCY_KEY.test('abc defgh')).toBe(true);
    expect(IDEMPOTENCY_KEY.test('k'.repeat(255))).toBe(true);
    expect(IDEMPOTENCY_KEY.test('k'.repeat(256))).toBe(false);
    expect(IDEMPOTENCY_KEY.test('k'.repeat(7))).toBe(false);
  });
});
