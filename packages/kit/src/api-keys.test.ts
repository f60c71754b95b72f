import { describe, expect, it } from 'vitest';
import { apiKeyId, apiKeys } from './api-keys.js';

describe('apiKeys.verify', () => {
  const keys = apiKeys(['key-one-0123456789', 'key-two-0123456789']);
  it('takes the Bearer scheme in any case (RFC 9110 §11.1) and one or more spaces before the token', () => {
    for (const scheme of ['Bearer', 'bearer', 'BEARER', 'bEaReR'])
      expect(keys.verify(`${scheme} key-one-0123456789`)).toBe(apiKeyId('key-one-0123456789'));
    expect(keys.verify('Bearer   key-two-0123456789')).toBe(apiKeyId('key-two-0123456789'));
  });
  it('refuses other schemes, no token, a token with spaces, an unknown or oversized key', () => {
    for (const h of [
      'Basic key-one-0123456789',
      'Bearerkey-one-0123456789',
      'Bearer ',
      'Bearer',
      'Bearer key-one-0123456789 extra',
      'Bearer nope',
      `Bearer ${'k'.repeat(600)}`,
      ['Bearer key-one-0123456789'],
      undefined,
    ])
      expect(keys.verify(h as string)).toBeUndefined();
  });
});
