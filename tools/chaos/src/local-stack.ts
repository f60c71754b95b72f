// The parts of the local stack (./stack/stack.sh) as a chaos run handles them: a process found by
// its pid file under the stack's state folder, sent a signal, and `stack.sh up [--all]` to bring
// back whatever no longer answers (the way an operator or a supervisor would).
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface LocalStack {
  root: string;
  stateDir: string;
  /** The live pid in `<stateDir>/<name>.pid`, or undefined. */
  pidOf(name: string): number | undefined;
  /** Sends `signal` to the named process; for SIGKILL/SIGTERM waits (bounded) until it is gone. */
  signal(name: string, signal: NodeJS.Signals): Promise<void>;
  /** `stack.sh up` (the infrastructure) or `stack.sh up --all` (and the mock and the services). */
  up(all: boolean): Promise<void>;
}

export function localStack(
  root: string,
  stateDir = process.env.STACK_STATE_DIR ?? join(root, '.stack'),
): LocalStack {
  // stack.sh starts nothing for a cluster named in these: the local stack's defaults apply here.
  const env = { ...process.env };
  for (const v of ['KAFKA_BROKERS', 'SCHEMA_REGISTRY_URL', 'REDIS_URL']) delete env[v];
  const pidOf = (name: string) => {
    const file = join(stateDir, `${name}.pid`);
    if (!existsSync(file)) return undefined;
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 && alive(pid) ? pid : undefined;
  };
  return {
    root,
    stateDir,
    pidOf,
    async signal(name, signal) {
      const pid = pidOf(name);
      if (pid === undefined) throw new Error(`${name}: no live process in ${stateDir}/${name}.pid`);
      process.kill(pid, signal);
      if (signal !== 'SIGKILL' && signal !== 'SIGTERM') return;
      const deadline = Date.now() + 30_000;
      while (alive(pid)) {
        if (Date.now() > deadline) throw new Error(`${name} (pid ${pid}) still alive 30 s after ${signal}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async up(all) {
      await run(join(root, 'stack', 'stack.sh'), all ? ['up', '--all'] : ['up'], { env, timeout: 240_000 });
    },
  };
}

/** The second instances `stack.sh up --all --instances 2` runs, and their /healthz ports. */
export const SECOND_INSTANCE_PORTS: Record<string, number> = {
  'intake-2': 3020,
  'provider-dispatch-2': 3021,
  'audit-2': 3022,
  'compensation-2': 3023,
  'reconciler-2': 3024,
};

/** /healthz of each second instance that runs. */
export function secondInstanceHealthUrls(stack: LocalStack): Record<string, string> {
  return Object.fromEntries(
    Object.entries(SECOND_INSTANCE_PORTS)
      .filter(([name]) => stack.pidOf(name) !== undefined)
      .map(([name, port]) => [name, `http://127.0.0.1:${port}/healthz`]),
  );
}
