// The broker of the local stack (./stack/stack.sh), killed and started as an operator would: SIGKILL
// to the JVM, then `stack.sh up`, which starts what does not answer.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface BrokerControl {
  /** SIGKILL, and wait (bounded) until the process is gone. */
  kill(): Promise<void>;
  /** Start it again and wait until it answers. */
  start(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * The pid file of the broker to kill: the single node's (`kafka.pid`), or node 1's of a three-node
 * stack (`up --brokers 3` writes `kafka-<i>.pid`); undefined when neither exists.
 */
export function brokerPidFile(stateDir: string): string | undefined {
  return ['kafka.pid', 'kafka-1.pid'].map((f) => join(stateDir, f)).find((f) => existsSync(f));
}

/** The stack's broker when this machine runs it (its pid file names a live process), else undefined. */
export function localBroker(root: string, stateDir = process.env.STACK_STATE_DIR ?? join(root, '.stack')) {
  const pidFile = brokerPidFile(stateDir);
  if (pidFile === undefined) return undefined;
  const pid = () => (existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : Number.NaN);
  if (!Number.isInteger(pid()) || !alive(pid())) return undefined;
  // stack.sh starts nothing for a cluster named in these: the local stack's defaults apply here.
  const env = { ...process.env };
  for (const v of ['KAFKA_BROKERS', 'SCHEMA_REGISTRY_URL', 'REDIS_URL']) delete env[v];
  const control: BrokerControl = {
    async kill() {
      const p = pid();
      if (!alive(p)) return;
      process.kill(p, 'SIGKILL');
      const deadline = Date.now() + 15_000;
      while (alive(p)) {
        if (Date.now() > deadline) throw new Error(`broker process ${p} still alive 15 s after SIGKILL`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async start() {
      await run(join(root, 'stack', 'stack.sh'), ['up'], { env, timeout: 240_000 });
    },
  };
  return control;
}
