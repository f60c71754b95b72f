import { describe, expect, it } from 'vitest';
import { IllegalTransitionError } from './errors.js';
import {
  type AppointmentState,
  canTransition,
  isState,
  isTerminal,
  STATES,
  TERMINAL_STATES,
  transition,
} from './state-machine.js';

// Written out by hand from ARCHITECTURE.md + docs/state-machine.md, independently of TRANSITIONS,
// so a change to the table that the docs do not make fails here.
const LEGAL = new Set([
  '(none)>REQUESTED',
  'REQUESTED>DISPATCHING',
  'REQUESTED>DEAD_LETTERED',
  'DISPATCHING>CONFIRMED',
  'DISPATCHING>PENDING_PROVIDER',
  'DISPATCHING>RETRY_SCHEDULED',
  'DISPATCHING>REJECTED',
  'DISPATCHING>DEAD_LETTERED',
  'PENDING_PROVIDER>CONFIRMED',
  'PENDING_PROVIDER>REJECTED',
  'PENDING_PROVIDER>RETRY_SCHEDULED',
  'PENDING_PROVIDER>DEAD_LETTERED',
  'RETRY_SCHEDULED>DISPATCHING',
  'RETRY_SCHEDULED>DEAD_LETTERED',
  'DEAD_LETTERED>RECONCILING',
  'DEAD_LETTERED>RETRY_SCHEDULED',
  'RECONCILING>CONFIRMED',
  'RECONCILING>COMPENSATING',
  'RECONCILING>FAILED',
  'CONFIRMED>COMPENSATING',
  'COMPENSATING>COMPENSATED',
]);

const ALL_STATES: AppointmentState[] = [
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
];

const pairs: [AppointmentState | null, AppointmentState][] = [];
for (const from of [null, ...ALL_STATES]) for (const to of ALL_STATES) pairs.push([from, to]);

describe('appointment state machine', () => {
  it('knows exactly the eleven states of the contract', () => {
    expect([...STATES].sort()).toEqual([...ALL_STATES].sort());
  });

  it.each(pairs)('%s -> %s is legal exactly when the documented table says so', (from, to) => {
    const legal = LEGAL.has(`${from ?? '(none)'}>${to}`);
    expect(canTransition(from, to)).toBe(legal);
    if (legal) {
      expect(transition(from, to)).toBe(to);
    } else {
      expect(() => transition(from, to)).toThrow(IllegalTransitionError);
    }
  });

  it('tests every pair: 12 origins (none + 11 states) x 11 targets', () => {
    expect(pairs).toHaveLength(132);
    expect(pairs.filter(([f, t]) => canTransition(f, t))).toHaveLength(LEGAL.size);
  });

  it('has CONFIRMED, REJECTED, COMPENSATED and FAILED as terminal states', () => {
    expect([...TERMINAL_STATES].sort()).toEqual(['COMPENSATED', 'CONFIRMED', 'FAILED', 'REJECTED']);
    expect(ALL_STATES.filter(isTerminal).sort()).toEqual(['COMPENSATED', 'CONFIRMED', 'FAILED', 'REJECTED']);
  });

  it('lets no terminal state but CONFIRMED move on, and CONFIRMED only into compensation', () => {
    for (const s of ['REJECTED', 'COMPENSATED', 'FAILED'] as const) {
      expect(ALL_STATES.filter((to) => canTransition(s, to))).toEqual([]);
    }
    expect(ALL_STATES.filter((to) => canTransition('CONFIRMED', to))).toEqual(['COMPENSATING']);
  });

  it('reaches a terminal state from every state (no dead ends)', () => {
    for (const start of ALL_STATES) {
      const seen = new Set<AppointmentState>([start]);
      const queue = [start];
      while (queue.length) {
        const s = queue.shift()!;
        for (const n of ALL_STATES.filter((to) => canTransition(s, to)))
          if (!seen.has(n)) {
            seen.add(n);
            queue.push(n);
          }
      }
      expect([...seen].some(isTerminal), `from ${start}`).toBe(true);
    }
  });

  it('carries from and to on the error', () => {
    try {
      transition('REJECTED', 'CONFIRMED');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(IllegalTransitionError);
      expect(err).toMatchObject({
        code: 'ILLEGAL_TRANSITION',
        retryable: false,
        from: 'REJECTED',
        to: 'CONFIRMED',
      });
    }
  });

  it('recognises state names', () => {
    expect(isState('CONFIRMED')).toBe(true);
    expect(isState('confirmed')).toBe(false);
    expect(isState(undefined)).toBe(false);
  });
});
