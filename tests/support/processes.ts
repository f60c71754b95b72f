// Services as child processes (crash tests kill them): the built entry point, the given
// environment, output to logs/tests/.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const running: ChildProcess[] = [];

export function startService(entry: string, env: Record<string, string>, logName: string): ChildProcess {
  const logFile = join(ROOT, 'logs', 'tests', `${logName}.log`);
  mkdirSync(dirname(logFile), { recursive: true });
  const child = spawn(process.execPath, [join(ROOT, entry)], {
    env: { ...process.env, ...env, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = createWriteStream(logFile);
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  running.push(child);
  return child;
}

export const exited = (c: ChildProcess): Promise<void> =>
  c.exitCode !== null || c.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((r) => c.once('exit', () => r()));

/** Kills every child still running (afterAll). */
export function killAll(): void {
  for (const c of running) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}
