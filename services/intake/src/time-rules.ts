// Strict time rules for a booking's slot and deadline (issue 12): a real date-time parser (Luxon)
// instead of a regex and Date.parse, so month 13, hour 25, second 60, Feb 30 and offset +99:99 are
// refused instead of turning into NaN or rolling over; the offset must be the zone's offset at that
// instant; the slot and the deadline lie within a bounded horizon.
import { DateTime } from 'luxon';

/** RFC 3339 date-time with a numeric offset or Z (the shape; the values are checked by Luxon). */
const SHAPE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
/** Offsets beyond this exist in no zone (the extremes are -12:00 and +14:00). */
const MAX_OFFSET_MINUTES = 14 * 60;

export type Parsed =
  | { ok: true; ms: number; offsetMinutes: number; utc: boolean }
  | { ok: false; message: string };

/** Parses an RFC 3339 date-time strictly. */
export function parseDateTime(value: string): Parsed {
  if (!SHAPE.test(value))
    return { ok: false, message: 'must be RFC 3339 with an offset, e.g. 2030-01-31T09:00:00+01:00' };
  const dt = DateTime.fromISO(value, { setZone: true });
  if (!dt.isValid) return { ok: false, message: 'is not a real date and time (a field is out of range)' };
  if (Math.abs(dt.offset) > MAX_OFFSET_MINUTES)
    return { ok: false, message: 'has an offset no time zone uses (beyond ±14:00)' };
  return { ok: true, ms: dt.toMillis(), offsetMinutes: dt.offset, utc: value.endsWith('Z') };
}

const hhmm = (minutes: number) => {
  const sign = minutes < 0 ? '-' : '+';
  const m = Math.abs(minutes);
  return `${sign}${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
};

/**
 * The zone's offset at that instant, when the value states a numeric offset. `Z` states the instant
 * in UTC without claiming a local offset (RFC 3339 §4.3), so it is consistent with any zone.
 */
export function offsetMismatch(parsed: Parsed & { ok: true }, zone: string): string | undefined {
  if (parsed.utc) return undefined;
  const expected = DateTime.fromMillis(parsed.ms, { zone }).offset;
  return expected === parsed.offsetMinutes
    ? undefined
    : `the offset ${hhmm(parsed.offsetMinutes)} is not ${zone}'s at that instant (${hhmm(expected)})`;
}
