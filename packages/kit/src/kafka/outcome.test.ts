// The one place a handler's decision becomes records: the retry topic or the dead letter with
// their headers, only declared topics, transitions counted and logged.
import type { DeadLetter } from '@booking/schemas';
import { describe, expect, it } from 'vitest';
import { lifecycleEmit } from '../lifecycle.js';
import { createLogger } from '../logger.js';
import { createMetricsRegistry } from '../metrics.js';
import { HEADERS } from './headers.js';
import {
  type DecidedRecord,
  emit,
  type OutcomeRoutes,
  resolveOutcome,
  UndeclaredOutputError,
} from './outcome.js';

const ID = '34963e3c-2864-885e-a293-e740cc9d7ef2';
const record = (attempt?: number): DecidedRecord => ({
  topic: 'req',
  partition: 1,
  offset: '9',
  key: ID,
  value: { appointmentId: ID },
  headers: attempt ? { [HEADERS.attempt]: String(attempt), [HEADERS.correlationId]: 'c-1' } : {},
  source: {
    topic: 'req',
    partition: 1,
    message: { key: Buffer.from(ID), value: Buffer.from([1, 2]), offset: '9' },
  },
});
function routes(): OutcomeRoutes & { metrics: ReturnType<typeof createMetricsRegistry> } {
  return {
    consumer: 'requests',
    writes: ['life'],
    retry: { policy: { delaysMs: [1000, 4000], maxAttempts: 3, jitter: 0 }, sourceTopic: 'req' },
    deadLetterTopic: 'dlt',
    logger: createLogger({ service: 'test', level: 'silent' }),
    metrics: createMetricsRegistry('outcome-test'),
    now: () => 10_000,
  };
}
const move = (from: 'DISPATCHING', to: 'CONFIRMED' | 'RETRY_SCHEDULED' | 'DEAD_LETTERED', since?: number) =>
  lifecycleEmit('life', {
    appointmentId: ID,
    from,
    to,
    actor: 't',
    correlationId: 'c-1',
    ...(since ? { since } : {}),
  });
const metric = async (r: ReturnType<typeof routes>, name: string) =>
  (await r.metrics.getSingleMetric(name)?.get())?.values ?? [];

describe('resolveOutcome', () => {
  it('emits what the handler decided, counting each transition and the end-to-end time of a terminal one', async () => {
    const r = routes();
    const out = resolveOutcome(emit(move('DISPATCHING', 'CONFIRMED', 7_500)), record(), r);
    expect(out.map((e) => e.topic)).toEqual(['life']);
    expect(await metric(r, 'booking_transitions_total')).toMatchObject([
      { labels: { to: 'CONFIRMED' }, value: 1 },
    ]);
    const e2e = await metric(r, 'booking_end_to_end_seconds');
    expect(
      e2e.find((v) => (v as { metricName?: string }).metricName === 'booking_end_to_end_seconds_sum')?.value,
    ).toBe(2.5);
  });

  it('refuses a record for a topic the consumer does not declare', () => {
    expect(() =>
      resolveOutcome(emit({ topic: 'elsewhere', key: ID, value: {} }), record(), routes()),
    ).toThrow(UndeclaredOutputError);
  });

  it('a retry goes to the retry topic of its delay with the attempt, not-before and deadline headers', async () => {
    const r = routes();
    const out = resolveOutcome(
      {
        kind: 'retry',
        reason: 'PROVIDER_503',
        about: { appointmentId: ID, firstSeen: 100, deadline: 99_000 },
        ifRetried: [move('DISPATCHING', 'RETRY_SCHEDULED')],
        ifExhausted: () => [move('DISPATCHING', 'DEAD_LETTERED')],
      },
      record(1),
      r,
    );
    expect(out.map((e) => e.topic)).toEqual(['life', 'req.retry-1s']);
    expect(out[0]?.value).toMatchObject({ to: 'RETRY_SCHEDULED' });
    expect(out[1]?.headers).toMatchObject({
      [HEADERS.attempt]: '2',
      [HEADERS.notBefore]: '11000',
      [HEADERS.firstSeen]: '100',
      [HEADERS.deadline]: '99000',
      [HEADERS.errorClass]: 'PROVIDER_503',
      [HEADERS.correlationId]: 'c-1',
    });
    expect(await metric(r, 'booking_retries_total')).toMatchObject([
      { labels: { reason: 'PROVIDER_503' }, value: 1 },
    ]);
  });

  it('a retry past the last attempt is a dead letter, with the transition for that way and the alert', async () => {
    const r = routes();
    const reasons: string[] = [];
    const out = resolveOutcome(
      {
        kind: 'retry',
        reason: 'PROVIDER_TIMEOUT',
        message: 'no answer in 2000 ms',
        about: { appointmentId: ID },
        emit: [],
        ifRetried: [move('DISPATCHING', 'RETRY_SCHEDULED')],
        ifExhausted: (reason) => {
          reasons.push(reason);
          return [move('DISPATCHING', 'DEAD_LETTERED')];
        },
        alertIfExhausted: 'needs_a_person',
      },
      record(3),
      r,
    );
    expect(reasons).toEqual(['RETRIES_EXHAUSTED']);
    expect(out.map((e) => e.topic)).toEqual(['dlt', 'life']);
    expect(out[0]?.value as DeadLetter).toMatchObject({
      appointmentId: ID,
      reason: 'RETRIES_EXHAUSTED',
      errorClass: 'PROVIDER_TIMEOUT',
      attempts: 3,
      originalTopic: 'req',
      originalOffset: 9,
      correlationId: 'c-1',
    });
    expect((out[0]!.value as DeadLetter).errorMessage).toContain('no answer in 2000 ms');
    expect(await metric(r, 'booking_alerts_total')).toMatchObject([
      { labels: { kind: 'needs_a_person' }, value: 1 },
    ]);
    expect(await metric(r, 'booking_dead_letters_total')).toMatchObject([
      { labels: { reason: 'RETRIES_EXHAUSTED' }, value: 1 },
    ]);
  });

  it('a retry whose next attempt would come after the deadline is dead-lettered as DEADLINE_EXCEEDED', () => {
    const out = resolveOutcome(
      { kind: 'retry', reason: 'RATE_LIMITED', about: { appointmentId: ID, deadline: 10_500 } },
      record(1),
      routes(),
    );
    expect(out[0]?.value).toMatchObject({ reason: 'DEADLINE_EXCEEDED', deadline: 10_500 });
  });

  it('a dead letter carries its reason, field errors and the raw record', () => {
    const out = resolveOutcome(
      {
        kind: 'dead-letter',
        reason: 'VALIDATION_FAILED',
        message: 'the record failed validation',
        about: { correlationId: 'c-9' },
        fieldErrors: ['slot.start: required'],
      },
      record(),
      routes(),
    );
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({
      topic: 'dlt',
      value: {
        reason: 'VALIDATION_FAILED',
        fieldErrors: ['slot.start: required'],
        originalValue: Buffer.from([1, 2]),
        correlationId: 'c-9',
      },
    });
  });

  it('a consumer without a retry schedule or a dead-letter topic cannot be given one by its handler', () => {
    const bare = { ...routes(), retry: undefined, deadLetterTopic: undefined };
    expect(() => resolveOutcome({ kind: 'retry', reason: 'X', about: {} }, record(), bare)).toThrow(
      /no retry schedule/,
    );
    expect(() =>
      resolveOutcome({ kind: 'dead-letter', reason: 'X', message: 'x', about: {} }, record(), bare),
    ).toThrow(/no dead-letter topic/);
  });
});
