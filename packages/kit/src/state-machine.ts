// The one appointment state machine (../shared/ARCHITECTURE.md "State machine"), pure data + pure
// functions. Every service moves appointments only through `transition`; audit re-checks each
// event with `canTransition`. Refinements of the brief are explained in docs/state-machine.md.
import type { AppointmentState } from '@booking/schemas';
import { IllegalTransitionError } from './errors.js';

export type { AppointmentState };

export const STATES = [
  'REQUESTED',
  'DISPATCHING',
  'PENDING_PROVIDER',
  'RETRY_SCHEDULED',
  'CONFIRMED',
  'REJECTED',
  'DEAD_LETTERED',
  'RECONCILING',
  'COMPENSATING',
  'COMPENSATED',
  'FAILED',
] as const satisfies readonly AppointmentState[];

/** The only state an appointment can start in. */
export const INITIAL_STATE = 'REQUESTED' satisfies AppointmentState;

export const TRANSITIONS: Readonly<Record<AppointmentState, readonly AppointmentState[]>> = Object.freeze({
  // DEAD_LETTERED directly: the deadline had already passed on arrival, no provider call is made.
  REQUESTED: ['DISPATCHING', 'DEAD_LETTERED'],
  DISPATCHING: ['CONFIRMED', 'PENDING_PROVIDER', 'RETRY_SCHEDULED', 'REJECTED', 'DEAD_LETTERED'],
  PENDING_PROVIDER: ['CONFIRMED', 'REJECTED', 'RETRY_SCHEDULED', 'DEAD_LETTERED'],
  // A scheduled retry comes back as a new dispatch, or dies at its deadline without one.
  RETRY_SCHEDULED: ['DISPATCHING', 'DEAD_LETTERED'],
  // CONFIRMED is terminal for the booking flow; the saga can still undo it.
  CONFIRMED: ['COMPENSATING'],
  REJECTED: [],
  // RETRY_SCHEDULED: an operator's redrive (tools/dlt) gives it one more attempt.
  DEAD_LETTERED: ['RECONCILING', 'RETRY_SCHEDULED'],
  RECONCILING: ['CONFIRMED', 'COMPENSATING', 'FAILED'],
  COMPENSATING: ['COMPENSATED'],
  COMPENSATED: [],
  FAILED: [],
});

/** Terminal: the appointment's outcome is settled (CONFIRMED may still be compensated by the saga). */
export const TERMINAL_STATES: ReadonlySet<AppointmentState> = new Set([
  'CONFIRMED',
  'REJECTED',
  'COMPENSATED',
  'FAILED',
]);

export function isState(value: unknown): value is AppointmentState {
  return typeof value === 'string' && (STATES as readonly string[]).includes(value);
}

export function isTerminal(state: AppointmentState): boolean {
  return TERMINAL_STATES.has(state);
}

/** `from` null means "no state yet": only the initial state may be entered. */
export function canTransition(from: AppointmentState | null, to: AppointmentState): boolean {
  if (from === null) return to === INITIAL_STATE;
  return TRANSITIONS[from].includes(to);
}

/** Returns `to` when the move is legal; throws IllegalTransitionError otherwise (never applied). */
export function transition(from: AppointmentState | null, to: AppointmentState): AppointmentState {
  if (!canTransition(from, to)) throw new IllegalTransitionError(from, to);
  return to;
}

export function nextStates(from: AppointmentState): readonly AppointmentState[] {
  return TRANSITIONS[from];
}
