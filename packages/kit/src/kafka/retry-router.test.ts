import { describe, expect, it } from 'vitest';
import { HEADERS } from './headers.js';
import { routeRetry } from './retry-router.js';

const base = {
  record: {
    topic: 'req.retry-1s',
    partition: 2,
    offset: '17',
    headers: { [HEADERS.originalOffset]: '5', [HEADERS.originalTopic]: 'req' },
  },
  policy: { delaysMs: [1000, 4000], maxAttempts: 3, jitter: 0 },
  sourceTopic: 'req',
  key: 'apt-1',
  value: { a: 1 },
  correlationId: 'c-1',
  firstSeen: 100,
  errorClass: 'PROVIDER_503',
  errorMessage: 'provider answered 503',
  now: 10_000,
};

describe('routeRetry: one place decides retry topic or DLT', () => {
  it('sends the next attempt to the retry topic of its delay, with every header, first origin kept', () => {
    const r = routeRetry({ ...base, attempt: 2 });
    expect(r.kind).toBe('retry');
    if (r.kind !== 'retry') return;
    expect(r.emit).toMatchObject({ topic: 'req.retry-4s', key: 'apt-1', value: { a: 1 } });
    expect(r.emit.headers).toMatchObject({
      [HEADERS.attempt]: '3',
      [HEADERS.notBefore]: '14000',
      [HEADERS.firstSeen]: '100',
      [HEADERS.originalTopic]: 'req',
      [HEADERS.originalOffset]: '5',
      [HEADERS.errorClass]: 'PROVIDER_503',
      [HEADERS.correlationId]: 'c-1',
    });
  });

  it('dead-letters when the attempts are spent, or when the next would come after the deadline', () => {
    expect(routeRetry({ ...base, attempt: 3 })).toMatchObject({
      kind: 'dead-letter',
      reason: 'RETRIES_EXHAUSTED',
      attempts: 3,
    });
    expect(routeRetry({ ...base, attempt: 1, deadline: 10_500 })).toMatchObject({
      kind: 'dead-letter',
      reason: 'DEADLINE_EXCEEDED',
    });
    expect(routeRetry({ ...base, attempt: 1, deadline: 20_000 })).toMatchObject({
      kind: 'retry',
      nextAttempt: 2,
    });
  });

  it("honours Retry-After up to the schedule's longest delay", () => {
    const r = routeRetry({ ...base, attempt: 1, retryAfterMs: 3000 });
    expect(r).toMatchObject({ kind: 'retry', notBefore: 13_000 });
    expect(routeRetry({ ...base, attempt: 1, retryAfterMs: 86_400_000 })).toMatchObject({
      notBefore: 14_000,
    });
  });

  it('carries the count of attempts that never reached the outside, and routes by the attempts that did', () => {
    const refused = routeRetry({
      ...base,
      attempt: 2,
      uncalled: 2,
      errorClass: 'CIRCUIT_OPEN',
      retryAfterMs: 3000,
    });
    expect(refused.kind === 'retry' && refused.emit.topic).toBe('req.retry-1s');
    expect(refused.kind === 'retry' && refused.emit.headers?.[HEADERS.uncalled]).toBe('2');
    const called = routeRetry({ ...base, attempt: 1 });
    expect(called.kind === 'retry' && called.emit.headers?.[HEADERS.uncalled]).toBeUndefined();
  });
});
