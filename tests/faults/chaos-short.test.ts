// Issue 14's short variant of `npm run chaos`, run by ./run_tests.sh: the stack's own services (as
// `./stack/stack.sh up --all` runs them) under the canonical mix while provider-dispatch is
// SIGKILLed and restarted, then while the broker is. The same checks as the full matrix: nothing
// lost, nothing double-booked, no second terminal event, every booking terminal within 60 s of
// the fault's end, every consumer consuming again, and the whole invariant checker.
// CHAOS_SHORT_BOOKINGS (default 600) sizes each fault's round. Figures: results/chaos-short.json.
// It runs in every ./run_tests.sh (CHAOS_SHORT=0 leaves it out); it was opt-in while issue 14's
// double handling was open (on a clean clone of c7b8d45 it failed as it should).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { KILLED_SERVICES, localBroker, localStack } from '@booking/chaos';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const OUT = join(ROOT, 'results', 'chaos-short.json');
const BOOKINGS = process.env.CHAOS_SHORT_BOOKINGS ?? '600';
const broker = localBroker(ROOT);
const stack = localStack(ROOT);
const LONG_LIVED = [...KILLED_SERVICES, 'provider-mock', 'lag'];

describe.skipIf(!broker || process.env.CHAOS_SHORT === '0')(
  'npm run chaos, short: a service killed, then the broker, under the mix',
  () => {
    let startedHere: string[] = [];
    beforeAll(async () => {
      const before = LONG_LIVED.filter((s) => stack.pidOf(s) !== undefined);
      await stack.up(true);
      startedHere = LONG_LIVED.filter((s) => !before.includes(s));
    }, 300_000);
    afterAll(async () => {
      for (const s of startedHere) if (stack.pidOf(s) !== undefined) await stack.signal(s, 'SIGTERM');
    }, 120_000);

    it('loses nothing, books nothing twice and settles after each fault', { timeout: 900_000 }, async () => {
      const env = { ...process.env };
      for (const line of (await run(join(ROOT, 'stack', 'stack.sh'), ['env'], { env })).stdout.split('\n')) {
        const m = /^export ([A-Z_]+)=(.*)$/.exec(line);
        if (m) env[m[1]!] = m[2]!.replace(/^'(.*)'$/, '$1');
      }
      const result = await run(
        process.execPath,
        [
          join(ROOT, 'tools', 'chaos', 'dist', 'cli.js'),
          '--faults',
          'kill-provider-dispatch,kill-broker',
          '--bookings',
          BOOKINGS,
          '--out',
          OUT,
        ],
        { env, cwd: ROOT, timeout: 880_000, maxBuffer: 16 * 1024 * 1024 },
      ).catch((err: { code?: number; stdout?: string; stderr?: string }) => err);
      const report = JSON.parse(readFileSync(OUT, 'utf8')) as {
        faults: {
          fault: string;
          passed: boolean;
          expired?: number;
          lost: number;
          doubleBooked: number;
          duplicateTerminal: number;
          notTerminal: number;
          acknowledged: number;
          bookings: number;
          unhealthy: string[];
          invariants: { passed: boolean };
        }[];
      };
      const seen = report.faults.map((f) => ({
        fault: f.fault,
        lost: f.lost,
        doubleBooked: f.doubleBooked,
        duplicateTerminal: f.duplicateTerminal,
        notTerminal: f.notTerminal,
        unhealthy: f.unhealthy,
        invariants: f.invariants.passed,
        acknowledgedAll: f.acknowledged + (f.expired ?? 0) === f.bookings,
      }));
      const clean = (fault: string) => ({
        fault,
        lost: 0,
        doubleBooked: 0,
        duplicateTerminal: 0,
        notTerminal: 0,
        unhealthy: [],
        invariants: true,
        acknowledgedAll: true,
      });
      expect(seen, result.stderr).toEqual([clean('kill-provider-dispatch'), clean('kill-broker')]);
    });
  },
);
