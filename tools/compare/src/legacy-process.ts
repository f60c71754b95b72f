// Project A's process: the legacy server under its supervisor (legacy/src/supervisor.js), its JSON
// lines re-logged through the kit logger (masked) into logs/log_pre.txt, and every crash counted.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Logger } from '@booking/kit';

export interface LegacyOptions {
  supervisor: string;
  port: number;
  providerUrl: string;
  providerToken: string;
  stateFile: string;
  logger: Logger;
}

export interface LegacyProcess {
  url: string;
  /** Epoch ms of every crash (exit of the server process) so far. */
  crashes: number[];
  /** Its log lines as it wrote them (the last LINES_KEPT), for the report's evidence. */
  lines: { at: number; fields: Record<string, unknown> }[];
  /** Resolves once the server answers /healthz with nothing in flight; false when `boundMs` ran out. */
  waitIdle(boundMs: number): Promise<boolean>;
  stop(): Promise<void>;
}

/** Log lines kept in memory for the evidence; older ones are still in the run's log file. */
const LINES_KEPT = 200_000;
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startLegacy(o: LegacyOptions): Promise<LegacyProcess> {
  const child: ChildProcess = spawn(process.execPath, [o.supervisor], {
    env: {
      ...process.env,
      LEGACY_PORT: String(o.port),
      PROVIDER_URL: o.providerUrl,
      PROVIDER_TOKEN: o.providerToken,
      LEGACY_STATE_FILE: o.stateFile,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const crashes: number[] = [];
  const log = o.logger.child({ src: 'legacy' });
  const lines: LegacyProcess['lines'] = [];
  const relay = (line: string) => {
    let fields: Record<string, unknown>;
    try {
      fields = JSON.parse(line) as Record<string, unknown>;
    } catch {
      fields = { line };
    }
    const { msg, time: _t, ...rest } = fields;
    lines.push({ at: Date.now(), fields: { ...rest, msg } });
    if (lines.length > LINES_KEPT) lines.splice(0, lines.length - LINES_KEPT);
    if (
      rest.service === 'legacy-supervisor' &&
      typeof rest.restarts === 'number' &&
      rest.exitCode !== undefined
    ) {
      crashes.push(Date.now());
      log.error(rest, String(msg ?? 'legacy process exited'));
    } else log.info(rest, String(msg ?? 'legacy output'));
  };
  createInterface({ input: child.stdout! }).on('line', relay);
  createInterface({ input: child.stderr! }).on('line', (line) =>
    relay(JSON.stringify({ stream: 'stderr', line })),
  );
  const url = `http://127.0.0.1:${o.port}`;

  const waitIdle = async (boundMs: number) => {
    const until = Date.now() + boundMs;
    while (Date.now() < until) {
      if (child.exitCode !== null) throw new Error(`the legacy supervisor exited (${child.exitCode})`);
      try {
        const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
        const body = (await res.json()) as { inflight?: number };
        if (res.ok && body.inflight === 0) return true;
      } catch {
        // Not up (restarting after a crash): ask again.
      }
      await pause(50);
    }
    return false;
  };

  if (!(await waitIdle(15_000))) {
    child.kill('SIGTERM');
    throw new Error(`the legacy service did not answer on ${url}/healthz within 15 s`);
  }
  return {
    url,
    crashes,
    lines,
    waitIdle,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, pause(5000)]);
    },
  };
}
