// Issue 19: the cutover's mirror run on its own (`booking-cutover mirror`, a process of its own) in
// front of the legacy (its real process, booking at a "production" provider), copying bookings to a
// pipeline's intake (a child process, the shadow's door). Midway the shadow's intake is SIGKILLed:
// every client still gets exactly the legacy's answer, and the copies from then on are counted as
// dropped. Then `booking-cutover shadow-report` reads only the mirror's journal and the shadow's
// status API, and accumulates across runs.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type LegacyProcess, startLegacy } from '@booking/compare';
import type { LiveReport } from '@booking/cutover';
import { buildMockApp } from '@booking/provider-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, repoPath, silentLogger } from '../support/compare.js';
import { waitFor } from '../support/helpers.js';
import { API_KEY, type Pipeline, requestBody, startPipeline } from '../support/pipeline.js';
import { exited, killAll, startService } from '../support/processes.js';

const PRODUCTION_TOKEN = `production-${randomUUID()}`;
const production = buildMockApp({ token: PRODUCTION_TOKEN, delayMs: 1000, pendingMs: 300 });
const execFileAsync = promisify(execFile);
const CLI = repoPath('tools/cutover/dist/cli.js');
let p: Pipeline;
let legacy: LegacyProcess;
let shadowIntake: ChildProcess;
let mirror: ChildProcess;
let mirrorUrl: string;
let adminUrl: string;
let shadowUrl: string;
const journalDir = mkdtempSync(join(tmpdir(), 'cutover-it-'));

interface Sent {
  calendarId: string;
  status: number;
  body: { id?: string; status?: string; error?: string };
  afterKill: boolean;
}
const sent: Sent[] = [];

const healthy = (url: string) =>
  waitFor(
    `${url} healthy`,
    async () => ((await fetch(url).catch(() => undefined))?.status === 200 ? true : null),
    60_000,
  );

async function book(calendarId: string, afterKill: boolean): Promise<void> {
  const res = await fetch(`${mirrorUrl}/appointments`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID() },
    body: JSON.stringify(requestBody(calendarId)),
  });
  sent.push({ calendarId, status: res.status, body: (await res.json()) as Sent['body'], afterKill });
}

/** The CLI as a user runs it; asynchronous, since the shadow's status API lives in this process. */
async function report(): Promise<LiveReport> {
  const { stdout } = await execFileAsync(
    process.execPath,
    [
      CLI,
      'shadow-report',
      '--shadow',
      p.intakeUrl,
      '--journal-dir',
      journalDir,
      '--json',
      '--required',
      '10',
      '--min-days',
      '0',
    ],
    { env: { ...process.env, SHADOW_API_KEY: API_KEY }, encoding: 'utf8', timeout: 60_000 },
  );
  return JSON.parse(stdout) as LiveReport;
}

beforeAll(async () => {
  await production.listen({ host: '127.0.0.1', port: 0 });
  const productionUrl = `http://127.0.0.1:${(production.server.address() as { port: number }).port}`;
  p = await startPipeline('cutover');
  legacy = await startLegacy({
    supervisor: repoPath('legacy/src/supervisor.js'),
    port: await freePort(),
    providerUrl: productionUrl,
    providerToken: PRODUCTION_TOKEN,
    stateFile: repoPath(`.legacy/cutover-it-${randomUUID()}.json`),
    logger: silentLogger,
  });
  const shadowPort = await freePort();
  shadowUrl = `http://127.0.0.1:${shadowPort}`;
  shadowIntake = startService(
    'services/intake/dist/main.js',
    { ...p.intakeEnv, INTAKE_HTTP_PORT: String(shadowPort) },
    `${p.prefix}.shadow-intake`,
  );
  await healthy(`${shadowUrl}/healthz`);
  const [port, admin] = [await freePort(), await freePort()];
  mirrorUrl = `http://127.0.0.1:${port}`;
  adminUrl = `http://127.0.0.1:${admin}`;
  mirror = spawn(
    process.execPath,
    [
      CLI,
      'mirror',
      '--legacy',
      legacy.url,
      '--shadow',
      shadowUrl,
      '--listen',
      `127.0.0.1:${port}`,
      '--admin',
      `127.0.0.1:${admin}`,
      '--journal-dir',
      journalDir,
      '--shadow-timeout-ms',
      '3000',
    ],
    { env: { ...process.env, SHADOW_API_KEY: API_KEY, LOG_LEVEL: 'warn' }, stdio: 'ignore' },
  );
  await healthy(`${adminUrl}/healthz`);

  const calendars = [
    'cal-immediate-',
    'cal-immediate-',
    'cal-slot-taken-',
    'cal-immediate-',
    'cal-immediate-',
  ];
  for (let i = 0; i < 10; i++) await book(`${calendars[i % 5]}${i}`, false);
  // Every copy so far answered before the shadow goes: the kill is what drops the rest.
  await waitFor(
    'the first ten copies answered',
    async () => ((await metric('mirror_shadow_copies_total', { outcome: 'answered' })) === 10 ? true : null),
    30_000,
  );
  shadowIntake.kill('SIGKILL');
  await exited(shadowIntake);
  for (let i = 10; i < 20; i++) await book(`${calendars[i % 5]}${i}`, true);
}, 240_000);

afterAll(async () => {
  mirror?.kill('SIGKILL');
  killAll();
  await legacy?.stop();
  await p?.stop();
  await production.close();
});

/** A counter's value, found by its name and the labels given (the registry adds service="mirror"). */
async function metric(name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(`${adminUrl}/metrics`)).text();
  const line = text
    .split('\n')
    .find(
      (l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)),
    );
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

describe('the cutover mirror, on its own in front of the legacy', () => {
  it("answers every client with the legacy's own answer, before and after the shadow dies", async () => {
    expect(sent).toHaveLength(20);
    for (const s of sent) {
      if (s.calendarId.startsWith('cal-slot-taken-')) {
        expect(s).toMatchObject({ status: 422, body: { error: 'BOOKING_REFUSED' } });
        continue;
      }
      expect(s).toMatchObject({ status: 201, body: { status: 'CONFIRMED' } });
      // What the client got is what the legacy recorded for that booking.
      const stored = await fetch(`${legacy.url}/appointments/${s.body.id}`);
      expect(await stored.json()).toEqual({ id: s.body.id, status: 'CONFIRMED' });
    }
    const before = sent.filter((s) => !s.afterKill).map((s) => s.status);
    const after = sent.filter((s) => s.afterKill).map((s) => s.status);
    expect(after).toEqual(before);
  });

  it('counts the copies made while the shadow is down as dropped, and stays healthy', async () => {
    expect(await metric('mirror_shadow_copies_total', { outcome: 'answered' })).toBe(10);
    expect(await metric('mirror_shadow_copies_total', { outcome: 'dropped', reason: 'unreachable' })).toBe(
      10,
    );
    expect(await metric('mirror_requests_total', { mirrored: 'true' })).toBe(20);
    expect((await fetch(`${adminUrl}/healthz`)).status).toBe(200);
  });

  it('shadow-report compares from the journal and the status API only, and accumulates', async () => {
    // A graceful stop flushes the journal.
    mirror.kill('SIGTERM');
    await exited(mirror);
    expect(mirror.exitCode).toBe(0);
    // The shadow's appointments settle on the pipeline's own time: report until none is undecided.
    const r = await waitFor(
      'every mirrored request decided',
      async () => {
        const x = await report();
        if (x.journal.undecided > 0 || x.journal.requests < 20) throw new Error(JSON.stringify(x.journal));
        return x;
      },
      60_000,
    );
    expect(r.journal.requests).toBe(20);
    expect(r.counts).toMatchObject({ match: 10, mismatch: 0, missing: 0, 'candidate-error': 0, ignored: 10 });
    expect(r.ignored_by_rule).toEqual({ 'copy-not-delivered': 10 });
    // Ten compared without a mismatch bound the rate at 3/10 (the rule of three): far from the gate.
    expect(r.gate).toMatchObject({ compared: 10, mismatches: 0, upper_bound_95: 0.3, passed: false });
    // Run again: nothing new is read, the decided results are kept.
    const again = await report();
    expect(again.counts).toEqual(r.counts);
  }, 120_000);
});
