// The mock's options from MOCK_* environment variables: shared by the mock's own process and by
// anything that starts an instance of it in-process (the comparison's Project A provider).
import { DEFAULT_OPTIONS, type MockOptions } from './app.js';

function num(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const v = env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name}: must be a non-negative number`);
  return n;
}

export function mockOptionsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): Omit<MockOptions, 'token' | 'logger'> {
  return {
    pendingMs: num(env, 'MOCK_PENDING_MS', DEFAULT_OPTIONS.pendingMs),
    pendingRetryAfterMs: num(env, 'MOCK_PENDING_RETRY_AFTER_MS', DEFAULT_OPTIONS.pendingRetryAfterMs),
    delayMs: num(env, 'MOCK_DELAY_MS', DEFAULT_OPTIONS.delayMs),
    flakyFailures: num(env, 'MOCK_FLAKY_FAILURES', DEFAULT_OPTIONS.flakyFailures),
    rateLimitedFailures: num(env, 'MOCK_RATE_LIMITED_FAILURES', DEFAULT_OPTIONS.rateLimitedFailures),
    retryAfterS: num(env, 'MOCK_RETRY_AFTER_S', DEFAULT_OPTIONS.retryAfterS),
    honourIdempotencyKey: env.MOCK_HONOUR_IDEMPOTENCY_KEY === 'true',
  };
}

export function mockPortFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  return num(env, 'MOCK_PORT', 4010);
}
