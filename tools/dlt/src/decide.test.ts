import type { DeadLetter } from '@booking/schemas';
import { describe, expect, it } from 'vitest';
import { decideRedrive, type RedriveFacts } from './decide.js';

const letter = (over: Partial<DeadLetter> = {}): DeadLetter => ({
  appointmentId: 'apt-1',
  reason: 'RETRIES_EXHAUSTED',
  errorClass: 'PipelineError',
  errorMessage: '3 attempts failed',
  fieldErrors: [],
  originalTopic: 'appointments.requested.v1.retry-4s',
  originalPartition: 0,
  originalOffset: 7,
  originalKey: null,
  originalValue: Buffer.from([0, 0, 0, 0, 1]),
  originalHeaders: {},
  attempts: 3,
  firstSeenAt: 1,
  deadLetteredAt: 2,
  deadline: null,
  correlationId: 'c-1',
  ...over,
});
const facts = (over: Partial<RedriveFacts> = {}): RedriveFacts => ({
  letter: letter(),
  dispatchTopics: [
    'appointments.requested.v1',
    'appointments.requested.v1.retry-1s',
    'appointments.requested.v1.retry-4s',
  ],
  state: 'DEAD_LETTERED',
  liveBookings: 0,
  now: 1000,
  ...over,
});

describe('redrive decision', () => {
  it('redrives a dispatch request still DEAD_LETTERED with no booking at the provider', () => {
    expect(decideRedrive(facts())).toEqual({ redrive: true });
  });

  it.each([
    ['a settled appointment', facts({ state: 'CONFIRMED' }), /already CONFIRMED/],
    ['one being reconciled', facts({ state: 'RECONCILING' }), /already RECONCILING/],
    ['one the provider has booked', facts({ liveBookings: 1 }), /holds a booking/],
    ['one past its deadline', facts({ letter: letter({ deadline: 999 }) }), /deadline has passed/],
    [
      'a letter naming no appointment',
      facts({ letter: letter({ appointmentId: null }) }),
      /names no appointment/,
    ],
    [
      'an inbound record',
      facts({ letter: letter({ originalTopic: 'appointments.inbound.v1' }) }),
      /not a dispatch request/,
    ],
    ['an unknown appointment', facts({ state: null }), /does not know/],
    ['a letter without its bytes', facts({ letter: letter({ originalValue: null }) }), /not kept/],
  ])('refuses %s', (_name, f, why) => {
    const d = decideRedrive(f);
    expect(d.redrive).toBe(false);
    expect(d.redrive ? '' : d.why).toMatch(why);
  });
});
