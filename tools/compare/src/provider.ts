// The provider's side of the story, read from the mock: every booking it holds and every call it
import type { CallRecord } from '@booking/provider-mock';
// answered, grouped by calendar (each case books on calendars of its own).
export interface LedgerBooking {
  bookingId: string;
  externalRef: string;
  calendarId: string;
  status: 'PENDING' | 'CONFIRMED' | 'REJECTED' | 'CANCELLED';
}

/** A call the mock answered (its `/__mock/calls`). */
export type ProviderCall = CallRecord;

export interface ProviderIndex {
  bookings(calendarId: string): LedgerBooking[];
  calls(calendarId: string): ProviderCall[];
}

export const isLive = (b: LedgerBooking) => b.status === 'CONFIRMED' || b.status === 'PENDING';

/** Groups bookings and calls by calendar; a call without a body is placed by its booking or ref. */
export function indexProvider(bookings: LedgerBooking[], calls: ProviderCall[]): ProviderIndex {
  const byCalendar = new Map<string, LedgerBooking[]>();
  const calendarOfBooking = new Map<string, string>();
  const calendarOfRef = new Map<string, string>();
  for (const b of bookings) {
    byCalendar.set(b.calendarId, [...(byCalendar.get(b.calendarId) ?? []), b]);
    calendarOfBooking.set(b.bookingId, b.calendarId);
    calendarOfRef.set(b.externalRef, b.calendarId);
  }
  for (const c of calls) if (c.calendarId && c.externalRef) calendarOfRef.set(c.externalRef, c.calendarId);
  const callsByCalendar = new Map<string, ProviderCall[]>();
  for (const c of calls) {
    let cal = c.calendarId;
    if (!cal) {
      const url = new URL(c.path, 'http://provider');
      const ref = url.searchParams.get('externalRef');
      const id = url.pathname.split('/')[4];
      cal = ref ? calendarOfRef.get(ref) : id ? calendarOfBooking.get(decodeURIComponent(id)) : undefined;
    }
    if (cal) callsByCalendar.set(cal, [...(callsByCalendar.get(cal) ?? []), c]);
  }
  return {
    bookings: (cal) => byCalendar.get(cal) ?? [],
    calls: (cal) => callsByCalendar.get(cal) ?? [],
  };
}

export async function readProvider(providerUrl: string): Promise<ProviderIndex> {
  const get = async <T>(path: string): Promise<T> => {
    const res = await fetch(new URL(path, providerUrl));
    if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status}`);
    return (await res.json()) as T;
  };
  const [{ bookings }, { calls }] = await Promise.all([
    get<{ bookings: LedgerBooking[] }>('/__mock/ledger'),
    get<{ calls: ProviderCall[] }>('/__mock/calls'),
  ]);
  return indexProvider(bookings, calls);
}
