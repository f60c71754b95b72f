// Starts the provider mock on MOCK_HOST:MOCK_PORT (127.0.0.1:4010).
import { buildMockApp, DEFAULT_OPTIONS } from './app.js';

const num = (name: string, fallback: number) => {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name}: must be a non-negative number`);
  return n;
};
const token = process.env.PROVIDER_TOKEN;
if (!token) throw new Error('PROVIDER_TOKEN: required');

const app = buildMockApp({
  token,
  pendingMs: num('MOCK_PENDING_MS', DEFAULT_OPTIONS.pendingMs),
  pendingRetryAfterMs: num('MOCK_PENDING_RETRY_AFTER_MS', DEFAULT_OPTIONS.pendingRetryAfterMs),
  delayMs: num('MOCK_DELAY_MS', DEFAULT_OPTIONS.delayMs),
  flakyFailures: num('MOCK_FLAKY_FAILURES', DEFAULT_OPTIONS.flakyFailures),
  rateLimitedFailures: num('MOCK_RATE_LIMITED_FAILURES', DEFAULT_OPTIONS.rateLimitedFailures),
  retryAfterS: num('MOCK_RETRY_AFTER_S', DEFAULT_OPTIONS.retryAfterS),
  honourIdempotencyKey: process.env.MOCK_HONOUR_IDEMPOTENCY_KEY === 'true',
  logger: { level: process.env.LOG_LEVEL ?? 'info', redact: ['req.headers.authorization'] },
});
await app.listen({ host: process.env.MOCK_HOST ?? '127.0.0.1', port: num('MOCK_PORT', 4010) });
const stop = async () => {
  setTimeout(() => process.exit(1), 5000).unref();
  await app.close();
  process.exit(0);
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
