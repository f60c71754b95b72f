#!/usr/bin/env node
// booking-cutover: the cutover's production tools (docs/cutover.md).
//   mirror         the reverse proxy in front of the legacy that copies bookings to the shadow
//   shadow-report  the live comparison: the mirror's journal against the shadow's outcomes; the gate
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildOpsServer, createLogger, createMetricsRegistry } from '@booking/kit';
import { compareLive, renderLiveReport, statusReader } from './compare-live.js';
import { startMirror } from './mirror.js';

const USAGE = `usage: booking-cutover mirror --legacy URL --shadow URL [--listen HOST:PORT] [--admin HOST:PORT]
                      [--journal-dir DIR] [--max-in-flight N] [--shadow-timeout-ms MS] [--path /appointments]
       booking-cutover shadow-report --shadow URL [--journal-dir DIR] [--comparisons FILE]
                      [--bound-ms MS] [--required N] [--min-days D] [--json] [--out FILE]
The shadow's API key: SHADOW_API_KEY, or a file named by SHADOW_API_KEY_FILE.
Every flag has an environment variable (docs/cutover.md).`;

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

const env = process.env;
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    legacy: { type: 'string', default: env.LEGACY_URL },
    shadow: { type: 'string', default: env.SHADOW_URL },
    listen: { type: 'string', default: env.MIRROR_LISTEN ?? '127.0.0.1:3300' },
    admin: { type: 'string', default: env.MIRROR_ADMIN_LISTEN ?? '127.0.0.1:3301' },
    'journal-dir': { type: 'string', default: env.MIRROR_JOURNAL_DIR ?? 'results/cutover' },
    comparisons: { type: 'string' },
    'max-in-flight': { type: 'string', default: env.MIRROR_MAX_IN_FLIGHT ?? '256' },
    'shadow-timeout-ms': { type: 'string', default: env.MIRROR_SHADOW_TIMEOUT_MS ?? '10000' },
    path: { type: 'string', default: env.MIRROR_PATH ?? '/appointments' },
    'bound-ms': { type: 'string', default: '3600000' },
    required: { type: 'string', default: '3000' },
    'min-days': { type: 'string', default: '7' },
    json: { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});

function url(name: string, v: string | undefined): string {
  if (!v) fail(`--${name} is required`);
  try {
    const u = new URL(v);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error();
    return v.replace(/\/$/, '');
  } catch {
    return fail(`--${name}: not an http(s) URL: ${v}`);
  }
}
function int(name: string, v: string | undefined, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    fail(`--${name}: an integer from ${min} to ${max}, got ${v}`);
  return n;
}
function hostPort(name: string, v: string | undefined): { host: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(v ?? '');
  if (!m) fail(`--${name}: HOST:PORT, got ${v}`);
  return { host: m[1]!.replace(/^\[(.*)\]$/, '$1') || '0.0.0.0', port: int(name, m[2], 0, 65_535) };
}
function apiKey(): string {
  const file = env.SHADOW_API_KEY_FILE;
  const key = file ? readFileSync(file, 'utf8').trim() : env.SHADOW_API_KEY;
  if (!key || key.length < 8)
    fail('the shadow API key: SHADOW_API_KEY (or SHADOW_API_KEY_FILE), 8 characters or more');
  return key;
}

async function mirror(): Promise<void> {
  const logger = createLogger({ service: 'mirror', level: env.LOG_LEVEL ?? 'info' });
  const registry = createMetricsRegistry('mirror');
  const listen = hostPort('listen', values.listen);
  const admin = hostPort('admin', values.admin);
  const m = await startMirror(
    {
      legacyUrl: url('legacy', values.legacy),
      shadowUrl: url('shadow', values.shadow),
      shadowApiKey: apiKey(),
      mirroredPath: values.path!,
      maxInFlight: int('max-in-flight', values['max-in-flight'], 1, 100_000),
      shadowTimeoutMs: int('shadow-timeout-ms', values['shadow-timeout-ms'], 100, 600_000),
      journalDir: values['journal-dir']!,
      instance: env.MIRROR_INSTANCE ?? hostname(),
      registry,
      logger,
    },
    listen.port,
    listen.host,
  );
  // /healthz and /metrics on their own port: every path of the mirror's own belongs to the legacy.
  const ops = buildOpsServer({
    registry,
    health: async () => ({ listening: true, journal: m.state().journalError === undefined }),
  });
  await ops.listen({ host: admin.host, port: admin.port });
  const opsAddress = ops.server.address();
  logger.info(
    {
      url: m.url,
      admin: typeof opsAddress === 'object' && opsAddress ? `${admin.host}:${opsAddress.port}` : admin,
      legacy: values.legacy,
      shadow: values.shadow,
      journalDir: values['journal-dir'],
    },
    'mirror listening',
  );
  const shutdownMs = int('SHUTDOWN_TIMEOUT_MS', env.SHUTDOWN_TIMEOUT_MS ?? '10000', 0, 600_000);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'mirror stopping: answers in flight finish, copies drain (bounded)');
    const timer = setTimeout(() => process.exit(1), shutdownMs + 1000);
    timer.unref();
    const drained = await m.drain(shutdownMs);
    await Promise.all([m.close(), ops.close()]);
    logger.info({ drained }, 'mirror stopped');
    logger.flush();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

async function shadowReport(): Promise<void> {
  const journalDir = values['journal-dir']!;
  const report = await compareLive(
    {
      journalDir,
      comparisonsPath: values.comparisons ?? join(journalDir, 'comparisons.jsonl'),
      status: statusReader(url('shadow', values.shadow), apiKey()),
      boundMs: int('bound-ms', values['bound-ms'], 0, 30 * 86_400_000),
    },
    {
      requiredCompared: int('required', values.required, 1, 10_000_000),
      minDays: Number(values['min-days']),
    },
  );
  if (values.out) {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(values.out, `${JSON.stringify(report, null, 2)}\n`);
  }
  process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : renderLiveReport(report));
}

const [command] = positionals;
if (command === 'mirror') await mirror();
else if (command === 'shadow-report') await shadowReport();
else fail(command ? `unknown command: ${command}` : 'a command is required');
