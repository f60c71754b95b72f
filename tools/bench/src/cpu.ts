// CPU time per process from /proc (user + system), for CPU ms per confirmed booking. The processes
// are the local stack's (`.stack/<name>.pid`, written by ./stack/stack.sh): the five services, the
// broker, the registry and the provider mock. A process that is not there is left out.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const MEASURED = [
  'intake',
  'provider-dispatch',
  'audit',
  'compensation',
  'reconciler',
  'kafka',
  'registry',
  'provider-mock',
] as const;
export const SERVICES = new Set(['intake', 'provider-dispatch', 'audit', 'compensation', 'reconciler']);

/** Clock ticks per second of /proc's times (USER_HZ, 100 on Linux nearly always). */
function ticksPerSecond(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
}

/** utime + stime of a /proc/<pid>/stat line, in ticks (fields 14 and 15; the name may hold spaces). */
export function statTicks(stat: string): number {
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state): field n is rest[n - 3].
  return Number(rest[11]) + Number(rest[12]);
}

export type CpuSample = Record<string, number>;

/** CPU ms used so far by each measured process of the stack in `stateDir`. */
export function sampleCpu(stateDir: string): CpuSample {
  const hz = ticksPerSecond();
  const out: CpuSample = {};
  for (const name of MEASURED) {
    // A three-node stack (`up --brokers 3`) writes kafka-1.pid … kafka-3.pid: their sum is `kafka`.
    const files = [`${name}.pid`, ...(name === 'kafka' ? ['kafka-1.pid', 'kafka-2.pid', 'kafka-3.pid'] : [])]
      .map((f) => join(stateDir, f))
      .filter((f) => existsSync(f));
    for (const pidFile of files) {
      const pid = readFileSync(pidFile, 'utf8').trim();
      try {
        out[name] = (out[name] ?? 0) + (statTicks(readFileSync(`/proc/${pid}/stat`, 'utf8')) * 1000) / hz;
      } catch {
        // not running
      }
    }
  }
  return out;
}

export interface CpuPerBooking {
  /** CPU ms each process used during the phase. */
  cpu_ms: Record<string, number>;
  /** The five services' CPU ms per confirmed booking. */
  services_ms_per_booking: number;
  /** Every measured process (broker, registry, mock included) per confirmed booking. */
  all_ms_per_booking: number;
}

export function cpuPerBooking(before: CpuSample, after: CpuSample, confirmed: number): CpuPerBooking {
  const cpu_ms: Record<string, number> = {};
  for (const [name, ms] of Object.entries(after)) {
    if (before[name] !== undefined) cpu_ms[name] = Math.round(ms - before[name]!);
  }
  const sum = (pick: (n: string) => boolean) =>
    Object.entries(cpu_ms)
      .filter(([n]) => pick(n))
      .reduce((a, [, ms]) => a + ms, 0);
  const per = (ms: number) => (confirmed > 0 ? Math.round((ms / confirmed) * 100) / 100 : 0);
  return {
    cpu_ms,
    services_ms_per_booking: per(sum((n) => SERVICES.has(n))),
    all_ms_per_booking: per(sum(() => true)),
  };
}
