import type { DeadLetter } from '@booking/schemas';
import { describe, expect, it } from 'vitest';
import { decideCompensationRedrive, decideRedrive, type RedriveFacts } from './decide.js';

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

describe('redrive of a compensation dead letter', () => {
  const compensationTopics = ['appointments.compensation.v1', 'appointments.compensation.v1.retry-1s'];
  const command = (over: Partial<DeadLetter> = {}) =>
    letter({ originalTopic: 'appointments.compensation.v1.retry-1s', ...over });
  it('sends again only a kept command whose appointment is still COMPENSATING', () => {
    expect(
      decideCompensationRedrive({ letter: command(), compensationTopics, state: 'COMPENSATING' }),
    ).toEqual({
      redrive: true,
    });
    const refusals = [
      decideCompensationRedrive({ letter: command(), compensationTopics, state: 'COMPENSATED' }),
      decideCompensationRedrive({ letter: command(), compensationTopics, state: null }),
      decideCompensationRedrive({
        letter: command({ appointmentId: null }),
        compensationTopics,
        state: 'COMPENSATING',
      }),
      decideCompensationRedrive({
        letter: command({ originalValue: null }),
        compensationTopics,
        state: 'COMPENSATING',
      }),
      decideCompensationRedrive({ letter: letter(), compensationTopics, state: 'COMPENSATING' }),
    ];
    expect(refusals.map((d) => d.redrive)).toEqual([false, false, false, false, false]);
    expect(refusals.map((d) => (d.redrive ? '' : d.why))).toEqual([
      'already COMPENSATED: nothing left to cancel, not sent again',
      'the pipeline does not know the appointment',
      'names no appointment (quarantined by the reconciler)',
      'the original record is not kept',
      'not a compensation command (from appointments.requested.v1.retry-4s)',
    ]);
  });
});
