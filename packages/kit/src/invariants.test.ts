import { describe, expect, it } from 'vitest';
import { checkInvariants, type InvariantInput } from './invariants.js';
import type { AppointmentView } from './projection.js';
import type { ProviderBooking } from './provider/client.js';

const view = (id: string, path: string[]): AppointmentView => ({
  appointmentId: id,
  state: path.at(-1)!,
  attempts: 1,
  bookingId: null,
  calendarId: null,
  deadline: null,
  correlationId: 'c',
  updatedAt: 0,
  history: path.map((to, i) => ({ from: i === 0 ? null : path[i - 1]!, to, at: '', reason: null })),
});
const booking = (ref: string, status: ProviderBooking['status']): ProviderBooking => ({
  bookingId: `b-${ref}-${status}`,
  status,
  externalRef: ref,
});

function input(extra: Partial<InvariantInput> = {}): InvariantInput {
  return {
    appointments: [
      view('ok-confirmed', ['REQUESTED', 'DISPATCHING', 'CONFIRMED']),
      view('ok-failed', ['REQUESTED', 'DEAD_LETTERED', 'RECONCILING', 'FAILED']),
      view('ok-saga', ['REQUESTED', 'DISPATCHING', 'CONFIRMED', 'COMPENSATING', 'COMPENSATED']),
    ],
    bookings: new Map([
      ['ok-confirmed', [booking('ok-confirmed', 'CONFIRMED')]],
      ['ok-saga', [booking('ok-saga', 'CANCELLED')]],
    ]),
    ...extra,
  };
}
const failed = (r: ReturnType<typeof checkInvariants>) =>
  r.invariants.filter((i) => !i.passed).map((i) => [i.name, i.appointmentIds]);

describe('invariants', () => {
  it('hold for settled appointments with matching bookings', () => {
    const r = checkInvariants(input());
    expect(failed(r)).toEqual([]);
    expect(r.passed).toBe(true);
    expect(r.terminal).toEqual({ CONFIRMED: 1, REJECTED: 0, COMPENSATED: 1, FAILED: 1 });
  });

  it('catch an appointment not in a terminal state', () => {
    const r = checkInvariants(
      input({ appointments: [...input().appointments, view('stuck', ['REQUESTED', 'DISPATCHING'])] }),
    );
    expect(failed(r)).toEqual([['every accepted request is in exactly one terminal state', ['stuck']]]);
  });

  it('catch CONFIRMED without a booking, and two live bookings', () => {
    const none = checkInvariants(input({ bookings: new Map() }));
    expect(none.mismatches.confirmedWithoutBooking).toEqual(['ok-confirmed']);
    const two = checkInvariants(
      input({
        bookings: new Map([
          ['ok-confirmed', [booking('ok-confirmed', 'CONFIRMED'), booking('ok-confirmed', 'PENDING')]],
        ]),
      }),
    );
    expect(two.mismatches.multipleBookings).toEqual(['ok-confirmed']);
    expect(two.passed).toBe(false);
  });

  it('catch a live booking for a FAILED or COMPENSATED appointment', () => {
    const r = checkInvariants(
      input({
        bookings: new Map([
          ['ok-confirmed', [booking('ok-confirmed', 'CONFIRMED')]],
          ['ok-failed', [booking('ok-failed', 'CONFIRMED')]],
        ]),
      }),
    );
    expect(failed(r)).toEqual([
      ['no live booking for FAILED, REJECTED or COMPENSATED appointments', ['ok-failed']],
    ]);
  });

  it('catch two terminal events, but allow the saga CONFIRMED -> COMPENSATED', () => {
    const twice = view('twice', ['REQUESTED', 'DISPATCHING', 'CONFIRMED']);
    twice.history.push({ from: 'CONFIRMED', to: 'CONFIRMED', at: '', reason: null });
    const r = checkInvariants(
      input({
        appointments: [...input().appointments, twice],
        bookings: new Map([...input().bookings, ['twice', [booking('twice', 'CONFIRMED')]]]),
      }),
    );
    expect(failed(r)).toEqual([['no appointment has two terminal events', ['twice']]]);
  });

  it('catch transitions missing from the audit trail, and unknown bookings in the ledger', () => {
    const r = checkInvariants(
      input({
        auditTransitions: new Map([
          ['ok-confirmed', 3],
          ['ok-failed', 4],
          ['ok-saga', 4],
        ]),
        ledger: [booking('ok-confirmed', 'CONFIRMED'), booking('ghost-nobody-knows', 'CONFIRMED')],
      }),
    );
    expect(failed(r)).toEqual([
      ['the audit trail has every transition', ['ok-saga']],
      ['no live booking for an appointment the pipeline does not know', ['ghost-nobody-knows']],
    ]);
    expect(r.mismatches.bookingWithoutConfirmed).toEqual(['ghost-nobody-knows']);
  });
});
