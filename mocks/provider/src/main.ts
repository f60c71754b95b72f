// Starts the provider mock on MOCK_HOST:MOCK_PORT (127.0.0.1:4010).
import { buildMockApp } from './app.js';
import { mockOptionsFromEnv, mockPortFromEnv } from './options.js';

const token = process.env.PROVIDER_TOKEN;
if (!token) throw new Error('PROVIDER_TOKEN: required');

const app = buildMockApp({
  token,
  ...mockOptionsFromEnv(),
  logger: { level: process.env.LOG_LEVEL ?? 'info', redact: ['req.headers.authorization'] },
});
await app.listen({ host: process.env.MOCK_HOST ?? '127.0.0.1', port: mockPortFromEnv() });
const stop = async () => {
  setTimeout(() => process.exit(1), 5000).unref();
  await app.close();
  process.exit(0);
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
