import { describe, expect, it } from 'vitest';
import { boundedWaitMs, MAX_PROVIDER_WAIT_MS, retryAfterMs } from './client.js';

describe("the provider's word on waiting is bounded (issue 12)", () => {
  it('reads Retry-After as seconds or an HTTP date, within an hour', () => {
    expect(retryAfterMs('2')).toBe(2000);
    expect(retryAfterMs('86400')).toBe(MAX_PROVIDER_WAIT_MS);
    expect(retryAfterMs(new Date(Date.now() + 10 * 86_400_000).toUTCString())).toBe(MAX_PROVIDER_WAIT_MS);
    for (const bad of ['-5', '1e9', 'soon', '', 'x'.repeat(100), '2.5'])
      expect(retryAfterMs(bad), bad).toBeLessThanOrEqual(MAX_PROVIDER_WAIT_MS);
    expect(retryAfterMs('soon')).toBe(1000);
    expect(retryAfterMs(null)).toBe(1000);
  });

  it("bounds a body's retryAfterMs, and falls back for what is no number", () => {
    expect(boundedWaitMs(250)).toBe(250);
    expect(boundedWaitMs(-1)).toBe(0);
    expect(boundedWaitMs(1e300)).toBe(MAX_PROVIDER_WAIT_MS);
    expect(boundedWaitMs('abc')).toBe(1000);
    expect(boundedWaitMs(undefined)).toBe(1000);
    expect(boundedWaitMs({})).toBe(1000);
  });
});
