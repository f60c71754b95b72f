import { describe, expect, it } from 'vitest';
import { DecodeError, errorCode, isRetryable, PipelineError } from './errors.js';

describe('errors', () => {
  it('retries only errors that say so', () => {
    expect(isRetryable(new PipelineError('PROVIDER_UNAVAILABLE', 'x', { retryable: true }))).toBe(true);
    expect(isRetryable(new DecodeError('bad'))).toBe(false);
    expect(isRetryable(new TypeError('programmer error'))).toBe(false);
  });

  it('keeps the cause and names the code', () => {
    const cause = new Error('socket hang up');
    const err = new PipelineError('PROVIDER_TIMEOUT', 'timed out', { cause, retryable: true });
    expect(err.cause).toBe(cause);
    expect(errorCode(err)).toBe('PROVIDER_TIMEOUT');
    expect(errorCode(new RangeError('x'))).toBe('RangeError');
  });
});

describe('transient infrastructure errors', () => {
  it('keeps records on broker or Redis outages, never on bad records or bugs', async () => {
    const { isTransient } = await import('./errors.js');
    const conn = Object.assign(new Error('Connection error: connect ECONNREFUSED 127.0.0.1:9092'), {
      name: 'KafkaJSConnectionError',
    });
    expect(isTransient(conn)).toBe(true);
    expect(isTransient(new Error('Connection is closed.'))).toBe(true);
    expect(isTransient(new DecodeError('bad magic byte'))).toBe(false);
    expect(isTransient(new TypeError('x is undefined'))).toBe(false);
  });
});
