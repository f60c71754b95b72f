import { describe, expect, it } from 'vitest';
import { cpuPerBooking, statTicks } from './cpu.js';

describe('CPU per booking', () => {
  it('reads utime + stime from a /proc stat line, a name with spaces included', () => {
    const stat = '1234 (node main (x)) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 11 0 5000';
    expect(statTicks(stat)).toBe(300);
  });

  it('divides each process and the sums by the bookings confirmed, leaving out what was not there before', () => {
    const r = cpuPerBooking(
      { intake: 1000, 'provider-dispatch': 2000, kafka: 5000 },
      { intake: 3000, 'provider-dispatch': 5000, kafka: 9000, audit: 700 },
      1000,
    );
    expect(r.cpu_ms).toEqual({ intake: 2000, 'provider-dispatch': 3000, kafka: 4000 });
    expect(r.services_ms_per_booking).toBe(5);
    expect(r.all_ms_per_booking).toBe(9);
  });
});
