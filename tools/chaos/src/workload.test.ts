import { appointmentIdFor } from '@booking/kit';
import { describe, expect, it } from 'vitest';
import { CANONICAL_MIX, KAFKA_SOURCE, planBookings, requestFields, runUpstream } from './workload.js';

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

describe('runUpstream', () => {
  it('stops after one booking could not be sent in its whole window, and says how many were not tried', async () => {
    const bookings = planBookings(0, 40);
    let calls = 0;
    const broken = {
      send: async () => {
        calls++;
        throw new Error('sender is fenced');
      },
    };
    await expect(
      runUpstream(bookings, { sender: broken, inboundTopic: 't', concurrency: 2, giveUpAfterMs: 30 }),
    ).rejects.toThrow(/could not send .* within 30 ms; 3\d bookings not tried/);
    // At most one booking per worker was tried; none acknowledged.
    expect(bookings.filter((b) => b.attempts > 0).length).toBeLessThanOrEqual(2);
    expect(bookings.some((b) => b.acknowledged)).toBe(false);
    expect(calls).toBeGreaterThan(0);
  });
});
