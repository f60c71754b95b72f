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
