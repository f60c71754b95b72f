// Crash test: 500 mixed requests while the provider-dispatch process is killed with SIGKILL mid-run
// and restarted. Nothing may be lost or booked twice: every request ends in a terminal state, and
// the invariant checker passes against the provider's ledger. Figures go to results/crash-dispatch.json.
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { countsByState } from '@booking/kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisClient, waitFor } from '../support/helpers.js';
import { type Pipeline, requestBody, startPipeline } from '../support/pipeline.js';
import { exited, killAll, startService } from '../support/processes.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const TERMINAL = ['CONFIRMED', 'REJECTED', 'COMPENSATED', 'FAILED'];
const MIX: [string, number][] = [
  ['cal-immediate-', 60],
  ['cal-pending-', 15],
  ['cal-flaky-1-', 10],
  ['cal-slot-taken-', 5],
  ['cal-delayed-', 5],
  ['cal-ghost-', 5],
];

let p: Pipeline;
const redis = redisClient();
afterAll(() => {
  killAll();
  redis.disconnect();
});

const startDispatch = (n: number) =>
  startService(
    'services/provider-dispatch/dist/main.js',
    p.dispatchEnv,
    `${p.topics.requested}.dispatch-child-${n}`,
  );
const terminalCount = async () => {
  const counts = await countsByState(redis, p.projectionPrefix);
  return TERMINAL.reduce((n, s) => n + (counts[s] ?? 0), 0);
};

function mixedCalendars(n: number): string[] {
  return Array.from({ length: n }, (_, i) => {
    let slot = i % 100;
    for (const [prefix, share] of MIX) {
      if (slot < share) return `${prefix}${randomUUID().slice(0, 8)}`;
      slot -= share;
    }
    return `cal-immediate-${randomUUID().slice(0, 8)}`;
  });
}

async function submitAll(calendars: string[]): Promise<string[]> {
  const ids: string[] = [];
  const queue = [...calendars];
  await Promise.all(
    Array.from({ length: 25 }, async () => {
      for (let c = queue.pop(); c !== undefined; c = queue.pop()) {
        const res = await p.submit(requestBody(c), `crash-${randomUUID()}`);
        expect(res.status).toBe(202);
        ids.push(((await res.json()) as { appointmentId: string }).appointmentId);
      }
    }),
  );
  return ids;
}

/** Waits for every request to settle and the invariants to hold; writes the figures. */
async function settleAndCheck(name: string, t0: number, disruptedAt: number, extra: Record<string, unknown>) {
  await waitFor('all 500 in a terminal state', async () => (await terminalCount()) >= 500, 150_000);
  const settleMs = Date.now() - disruptedAt;
  const report = await p.invariantsHold();
  const figures = {
    test: name,
    requests: 500,
    mix: Object.fromEntries(MIX),
    ...extra,
    msFromDisruptionToAllTerminal: settleMs,
    totalMs: Date.now() - t0,
    byState: report.byState,
    invariants: report.invariants.map((i) => ({ name: i.name, passed: i.passed })),
    doubleBooked: await p.doubleBooked(),
  };
  mkdirSync(join(ROOT, 'results'), { recursive: true });
  writeFileSync(join(ROOT, 'results', `${name}.json`), `${JSON.stringify(figures, null, 2)}\n`);
  expect(report.appointments).toBe(500);
  expect(report.passed).toBe(true);
  expect(figures.doubleBooked).toEqual([]);
}

describe('crash: provider-dispatch killed with SIGKILL mid-run', () => {
  beforeAll(async () => {
    p = await startPipeline('crash', { externalDispatch: true, mock: { delayMs: 800 } });
  });
  afterAll(async () => {
    await p?.stop();
  });

  it('loses nothing and books nothing twice across 500 mixed requests', { timeout: 240_000 }, async () => {
    const t0 = Date.now();
    const first = startDispatch(1);
    expect(await submitAll(mixedCalendars(500))).toHaveLength(500);
    await waitFor(
      '100 appointments settled before the kill',
      async () => (await terminalCount()) >= 100,
      90_000,
    );
    const settledAtKill = await terminalCount();
    first.kill('SIGKILL');
    await exited(first);
    const killedAt = Date.now();
    startDispatch(2);
    await settleAndCheck('crash-dispatch', t0, killedAt, { kills: 1, settledAtKill });
  });
});

describe('rebalance: two provider-dispatch instances in one group, one leaving mid-run', () => {
  beforeAll(async () => {
    p = await startPipeline('rebalance', { externalDispatch: true, mock: { delayMs: 800 } });
  });
  afterAll(async () => {
    await p?.stop();
  });

  it('loses nothing and books nothing twice when a member leaves', { timeout: 240_000 }, async () => {
    const t0 = Date.now();
    const leaving = startDispatch(1);
    startDispatch(2);
    expect(await submitAll(mixedCalendars(500))).toHaveLength(500);
    await waitFor(
      '100 appointments settled before the leave',
      async () => (await terminalCount()) >= 100,
      90_000,
    );
    const settledAtLeave = await terminalCount();
    leaving.kill('SIGTERM'); // graceful: finishes its batch, leaves the group, the other takes over
    await exited(leaving);
    const leftAt = Date.now();
    expect(leaving.exitCode).toBe(0);
    await settleAndCheck('crash-rebalance', t0, leftAt, { instances: 2, leaves: 1, settledAtLeave });
  });
});
