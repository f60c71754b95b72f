// Issue 14: a service that keeps state in Redis refuses to start on a Redis that keeps no
// append-only file (a restart there forgets the idempotency keys and a redelivered request books
// again), says why in one line, and starts when REDIS_ALLOW_NO_PERSISTENCE=true says the Redis is a
// throwaway one. A real redis-server of the test's own, without AOF.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { auditConfigSchema, createAudit } from '@booking/audit';
import { ConfigError, loadConfig } from '@booking/kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logger, redisAnswers, stack, unique, waitFor } from '../support/helpers.js';

const PORT = 6393;
const URL = `redis://127.0.0.1:${PORT}`;
let server: ChildProcess | undefined;

beforeAll(async () => {
  server = spawn(
    'redis-server',
    ['--port', String(PORT), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore', cwd: mkdtempSync(join(tmpdir(), 'it-redis-np-')) },
  );
  await waitFor('the Redis without AOF', () => redisAnswers(URL));
});
afterAll(() => {
  server?.kill('SIGTERM');
});

const audit = (redisUrl: string, extra: Record<string, string> = {}) =>
  createAudit(
    loadConfig(auditConfigSchema, {
      KAFKA_BROKERS: stack().kafkaBrokers,
      SCHEMA_REGISTRY_URL: stack().schemaRegistryUrl,
      REDIS_URL: redisUrl,
      AUDIT_HTTP_PORT: '0',
      GROUP_PREFIX: unique('persistence.audit'),
      AUDIT_LOG_PATH: join(mkdtempSync(join(tmpdir(), 'it-audit-')), 'audit.jsonl'),
      ...extra,
    }),
    { logger },
  );

describe('Redis persistence at start', () => {
  it('refuses a Redis without an append-only file, naming the way out', { timeout: 60_000 }, async () => {
    const s = audit(URL);
    try {
      const err = await s.start().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).problems).toEqual([
        expect.stringMatching(
          /^REDIS_URL: the Redis has no append-only file \(aof_enabled:0\).*REDIS_ALLOW_NO_PERSISTENCE=true/,
        ),
      ]);
    } finally {
      await s.stop();
    }
  });

  it("starts on it when told the Redis is a throwaway one, and on the stack's Redis as it is", {
    timeout: 90_000,
  }, async () => {
    for (const s of [audit(URL, { REDIS_ALLOW_NO_PERSISTENCE: 'true' }), audit(stack().redisUrl)]) {
      try {
        await expect(s.start()).resolves.toMatch(/^http:/);
      } finally {
        await s.stop();
      }
    }
  });
});
