import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { baseConfigSchema, loadConfig } from './config.js';
import { ConfigError } from './errors.js';

const good = {
  SERVICE_NAME: 'intake',
  KAFKA_BROKERS: '127.0.0.1:9092, 127.0.0.2:9092',
  SCHEMA_REGISTRY_URL: 'http://127.0.0.1:8081/apis/ccompat/v7',
  REDIS_URL: 'redis://127.0.0.1:6379',
};

describe('loadConfig', () => {
  it('parses, applies defaults and freezes', () => {
    const config = loadConfig(baseConfigSchema, good);
    expect(config.KAFKA_BROKERS).toEqual(['127.0.0.1:9092', '127.0.0.2:9092']);
    expect(config.RETRY_DELAYS_MS).toEqual([1000, 4000, 16000, 30000]);
    expect(config.LOG_LEVEL).toBe('info');
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('lists every problem in one error, naming each variable', () => {
    let error: unknown;
    try {
      loadConfig(baseConfigSchema, {
        KAFKA_BROKERS: 'no-port-here',
        SCHEMA_REGISTRY_URL: 'not a url',
        REDIS_URL: 'http://wrong-scheme',
        RETRY_DELAYS_MS: '1000,-5',
        LOG_LEVEL: 'loud',
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    const named = problems.map((p) => p.split(/[.:]/)[0]);
    expect(new Set(named)).toEqual(
      new Set([
        'SERVICE_NAME',
        'KAFKA_BROKERS',
        'SCHEMA_REGISTRY_URL',
        'REDIS_URL',
        'RETRY_DELAYS_MS',
        'LOG_LEVEL',
      ]),
    );
    expect(problems.find((p) => p.startsWith('SERVICE_NAME'))).toBe('SERVICE_NAME: required');
    expect((error as Error).message).toContain('invalid configuration');
  });

  it('never echoes a value back (values may be secrets)', () => {
    const secret = 'redis-password-s3cr3t';
    try {
      loadConfig(z.object({ REDIS_URL: baseConfigSchema.shape.REDIS_URL }), { REDIS_URL: secret });
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).not.toContain(secret);
    }
  });
});
