import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError } from './errors.js';
import { loadServiceConfig } from './service-config.js';
import { redisDatabase, shadowProblems } from './shadow.js';

const schema = z.object({
  TOPIC_PREFIX: z.string().default(''),
  GROUP_PREFIX: z.string().default('dispatch'),
});
const shadow = {
  SHADOW_MODE: 'true',
  PROVIDER_URL: 'http://sandbox.provider:4010',
  PROVIDER_TOKEN: 'sandbox-token-1',
  PRODUCTION_PROVIDER_URL: 'https://api.provider.example',
  PRODUCTION_PROVIDER_TOKEN: 'production-token-1',
};

describe('shadow mode', () => {
  it('runs on .shadow topics with shadow. consumer groups', () => {
    const { config, topics } = loadServiceConfig(schema, shadow);
    expect(topics.requested).toBe('appointments.requested.v1.shadow');
    expect(topics.inbound).toBe('appointments.inbound.v1.shadow');
    expect(config.GROUP_PREFIX).toBe('shadow.dispatch');
  });

  it('refuses the production provider URL or token, and a shadow that does not say what production is', () => {
    expect(shadowProblems({ ...shadow, PROVIDER_URL: 'https://api.provider.example/api/v2' })).toEqual([
      'PROVIDER_URL: is the production provider; a shadow calls the sandbox only',
    ]);
    expect(shadowProblems({ ...shadow, PROVIDER_TOKEN: 'production-token-1' })).toEqual([
      'PROVIDER_TOKEN: is the production token; a shadow uses the sandbox token',
    ]);
    expect(shadowProblems({ SHADOW_MODE: 'true' })).toHaveLength(1);
    expect(() => loadServiceConfig(schema, { ...shadow, PROVIDER_TOKEN: 'production-token-1' })).toThrow(
      ConfigError,
    );
  });

  it("refuses production's Redis database: appointment ids would collide with production's", () => {
    const prod = { ...shadow, PRODUCTION_REDIS_URL: 'redis://127.0.0.1:6379' };
    expect(shadowProblems({ ...prod, REDIS_URL: 'redis://127.0.0.1:6379/0' })).toEqual([
      "REDIS_URL: is production's Redis database; a shadow needs one of its own (e.g. redis://host:6379/1)",
    ]);
    expect(shadowProblems({ ...prod, REDIS_URL: 'redis://127.0.0.1:6379/1' })).toEqual([]);
    expect(redisDatabase('redis://:secret@cache.internal/3')).toBe('cache.internal:6379/3');
  });

  it('changes nothing outside shadow mode', () => {
    const { config, topics } = loadServiceConfig(schema, { TOPIC_PREFIX: 'it.' });
    expect(topics.requested).toBe('it.appointments.requested.v1');
    expect(config.GROUP_PREFIX).toBe('dispatch');
    expect(shadowProblems({})).toEqual([]);
  });
});
