import { appointmentIdFor } from '@booking/kit';
import { describe, expect, it } from 'vitest';
import { CANONICAL_MIX, KAFKA_SOURCE, planBookings, requestFields } from './workload.js';

describe('planBookings', () => {
  it('splits the calendars 3:1:1 and derives the ids intake will answer with', () => {
    const b = planBookings(10, 5, undefined, 'tag');
    expect(b.filter((x) => x.channel === 'http')).toHaveLength(10);
    const http = b.filter((x) => x.channel === 'http').map((x) => x.calendarId.split('tag')[0]);
    expect(http.slice(0, 5)).toEqual([
      'cal-immediate-',
      'cal-immediate-',
      'cal-immediate-',
      'cal-pending-',
      'cal-flaky-1-',
    ]);
    const k = b.find((x) => x.channel === 'kafka')!;
    expect(k.appointmentId).toBe(appointmentIdFor(`kafka:${KAFKA_SOURCE}`, k.key));
    expect(b[0]!.appointmentId).toBe(appointmentIdFor('http', b[0]!.key));
    expect(new Set(b.map((x) => x.key)).size).toBe(15);
  });

  it('asks for a 30-minute slot in the future with a consistent UTC offset', () => {
    const f = requestFields(planBookings(1, 0)[0]!, 7);
    expect(Date.parse(f.slot.start)).toBeGreaterThan(Date.now());
    expect(Date.parse(f.slot.end) - Date.parse(f.slot.start)).toBe(30 * 60_000);
    expect(f.slot.start.endsWith('+00:00')).toBe(true);
  });

  it('gives every behaviour of the canonical mix its share, and an always-failing calendar a deadline 8 s ahead', () => {
    const b = planBookings(200, 0, CANONICAL_MIX, 'mix');
    const count = (prefix: string) => b.filter((x) => x.calendarId.startsWith(`${prefix}mix`)).length;
    expect(count('cal-immediate-')).toBe(110);
    expect(count('cal-always-fail-')).toBe(10);
    const failing = b.find((x) => x.calendarId.startsWith('cal-always-fail-'))!;
    const other = b.find((x) => x.calendarId.startsWith('cal-immediate-'))!;
    expect(requestFields(failing, 0).deadline - Date.now()).toBeLessThanOrEqual(8000);
    expect(requestFields(other, 0).deadline - Date.now()).toBeGreaterThan(3_600_000);
  });
});
