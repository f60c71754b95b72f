// Redis restarted mid-run. Choice: fail CLOSED. Without Redis there is no idempotency claim and no
// dispatch lock, and booking without them risks a double booking, so intake answers 503 (the
// client retries with the same Idempotency-Key) and consumers keep their records and retry; nothing
// is dead-lettered for our own outage. Redis runs with AOF (appendfsync always), as in production,
// so claims and the projection survive the restart. This test runs its own real redis-server so the
// rest of the suite is not disturbed.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { countsByState } from '@booking/kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisAnswers, redisClient, waitFor } from '../support/helpers.js';
import { type Pipeline, requestBody, startPipeline } from '../support/pipeline.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PORT = 6391;
const URL = `redis://127.0.0.1:${PORT}`;
const dir = mkdtempSync(join(tmpdir(), 'it-redis-'));
let server: ChildProcess | undefined;
let p: Pipeline;

function startRedis(): ChildProcess {
  return spawn(
    'redis-server',
    [
      '--port',
      String(PORT),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--appendonly',
      'yes',
      '--appendfsync',
      'always',
      '--save',
      '',
    ],
    {
      stdio: 'ignore',
    },
  );
}
const stopped = (c: ChildProcess) =>
  c.exitCode !== null || c.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((r) => c.once('exit', () => r()));

beforeAll(async () => {
  server = startRedis();
  await waitFor('the test Redis', () => redisAnswers(URL));
  p = await startPipeline('redis-restart', { redisUrl: URL });
});
afterAll(async () => {
  await p?.stop();
  server?.kill('SIGTERM');
});

const TERMINAL = ['CONFIRMED', 'REJECTED', 'COMPENSATED', 'FAILED'];

describe('Redis restarted mid-run', () => {
  it('fails closed while down, then settles every request with no double booking', {
    timeout: 180_000,
  }, async () => {
    const t0 = Date.now();
    const calendars = Array.from(
      { length: 200 },
      (_, i) =>
        `${['cal-immediate-', 'cal-pending-', 'cal-flaky-1-', 'cal-ghost-'][i % 4]}${randomUUID().slice(0, 8)}`,
    );
    const submitted = new Map<string, number>();
    const accepted: string[] = [];
    let refusedWhileDown = 0;
    // A client that retries with the same key until accepted, as upstream systems are told to.
    const submitUntilAccepted = async (calendarId: string) => {
      const key = `redis-${randomUUID()}`;
      const body = requestBody(calendarId);
      await waitFor(
        `${calendarId} accepted`,
        async () => {
          const res = await p.submit(body, key);
          if (res.status === 503) refusedWhileDown++;
          if (res.status !== 202) return false;
          accepted.push(((await res.json()) as { appointmentId: string }).appointmentId);
          return true;
        },
        90_000,
      );
      submitted.set(calendarId, Date.now());
    };
    const firstHalf = calendars.slice(0, 100);
    await Promise.all(firstHalf.map(submitUntilAccepted));

    // Take Redis down (SHUTDOWN writes the AOF), submit the second half while it is down, bring it back.
    const c = redisClient(URL);
    await c.call('SHUTDOWN').catch(() => undefined);
    c.disconnect();
    await stopped(server!);
    const downAt = Date.now();
    const secondHalf = Promise.all(calendars.slice(100).map(submitUntilAccepted));
    await waitFor('intake to report Redis down', async () => {
      const h = (await (await fetch(`${p.intakeUrl}/healthz`)).json()) as { checks: { redis: boolean } };
      return h.checks.redis === false;
    });
    server = startRedis();
    await waitFor('Redis back', () => redisAnswers(URL));
    const backAt = Date.now();
    await secondHalf;
    expect(new Set(accepted).size).toBe(200);

    const counts = redisClient(URL);
    try {
      await waitFor(
        'all 200 in a terminal state',
        async () => {
          const byState = await countsByState(counts, p.projectionPrefix);
          return TERMINAL.reduce((n, s) => n + (byState[s] ?? 0), 0) >= 200;
        },
        120_000,
      );
    } finally {
      counts.disconnect();
    }
    const report = await p.invariantsHold();
    const figures = {
      test: 'crash-redis-restart',
      requests: 200,
      redisDownMs: backAt - downAt,
      refusedWhileDown,
      msFromRestartToAllTerminal: Date.now() - backAt,
      totalMs: Date.now() - t0,
      byState: report.byState,
      invariants: report.invariants.map((i) => ({ name: i.name, passed: i.passed })),
      doubleBooked: await p.doubleBooked(),
    };
    mkdirSync(join(ROOT, 'results'), { recursive: true });
    writeFileSync(join(ROOT, 'results', 'crash-redis-restart.json'), `${JSON.stringify(figures, null, 2)}\n`);
    expect(report.appointments).toBe(200);
    expect(report.passed).toBe(true);
    expect(refusedWhileDown).toBeGreaterThan(0);
    expect(figures.doubleBooked).toEqual([]);
  });
});
