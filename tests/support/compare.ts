// Shared by the comparison and shadow tests: a quiet progress and logger, a free port, the repo.
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createLogger } from '@booking/kit';

export const repoPath = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));
export const silentProgress = { start() {}, update() {}, stop() {} };
export const silentLogger = createLogger({ service: 'tests', level: 'silent' });

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}
