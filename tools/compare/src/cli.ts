#!/usr/bin/env node
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, open, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
// booking-compare: Project A (legacy) then Project B (pipeline) over the same cases; writes
// results/, logs/log_pre.txt, logs/log_post.txt and compare_report.md. Exit 0 only if every
// Project B case matches its expectation. run_all.sh calls it; docs/comparison.md explains it.
import { compareLive, statusReader } from '@booking/cutover';
import { createLogger } from '@booking/kit';
import { buildMockApp, mockOptionsFromEnv } from '@booking/provider-mock';
import pino from 'pino';
import { aggregate } from './aggregate.js';
import { latencySpec, renderSvg } from './chart.js';
import { DataFileError, loadExpectations, loadTestData } from './data-file.js';
import { generateLoad } from './generate.js';
import { createProgress } from './progress.js';
import { renderReport } from './report.js';
import type { LegacySetup } from './runner.js';
import {
  type ProjectResults,
  type RunContext,
  runLegacy,
  runLegacyMirrored,
  runPipeline,
  type ShadowTarget,
} from './runner.js';
import { renderShadowSection, shadowFromRuns } from './shadow-run.js';

const USAGE = `usage: booking-compare [--data FILE] [--load N] [--only A|B] [options]
  --data FILE            cases (default data/test_data.json)
  --load N               generated requests drawn from the file's mix (default 1000)
  --expected-post FILE   Project B expectations (default data/expected_postchange.json)
  --expected-pre FILE    Project A predictions (default data/expected_prechange.json)
  --seed N               load generator seed (default 42)
  --concurrency N        load concurrency (default: the file's load.concurrency)
  --only A|B             run one project
  --shadow               also the shadow comparison: the legacy serves the same requests again
                         through the mirror, which copies each booking to the shadow deployment
                         (stack.sh up --shadow); legacy outcomes against the shadow's by request id,
                         the first legacy run as the noise baseline (results/shadow_report.json)
  --settle-timeout S     bound on waiting for final states, seconds (default 300)
  --results DIR, --logs DIR, --report FILE   output places (default results, logs, compare_report.md)
env: INTAKE_URL, INTAKE_API_KEY, PROVIDER_URL (the pipeline's provider), LEGACY_PORT,
     LEGACY_PROVIDER_PORT (default: any free port), MOCK_* (the legacy's provider), TIMING_FILE;
     with --shadow: SHADOW_INTAKE_URL (default :3010), SHADOW_INTAKE_API_KEY, SANDBOX_PROVIDER_URL (:4011)`;

const SERVICES = ['intake', 'provider-dispatch', 'audit', 'compensation', 'reconciler'];

const root = resolvePath(dirname(fileURLToPath(import.meta.url)), '../../..');

function fail(message: string, code = 2): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

const { values } = (() => {
  try {
    return parseArgs({
      options: {
        data: { type: 'string', default: 'data/test_data.json' },
        load: { type: 'string', default: '1000' },
        'expected-post': { type: 'string', default: 'data/expected_postchange.json' },
        'expected-pre': { type: 'string', default: 'data/expected_prechange.json' },
        seed: { type: 'string', default: '42' },
        concurrency: { type: 'string' },
        only: { type: 'string' },
        'settle-timeout': { type: 'string', default: '300' },
        results: { type: 'string', default: 'results' },
        logs: { type: 'string', default: 'logs' },
        report: { type: 'string', default: 'compare_report.md' },
        shadow: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (err) {
    return fail(`${(err as Error).message}\n${USAGE}`);
  }
})();
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const int = (name: string, v: string | undefined, min: number) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) fail(`--${name}: an integer >= ${min}, got ${v}\n${USAGE}`);
  return n;
};
const loadN = int('load', values.load, 0);
const seed = int('seed', values.seed, 0);
const settleTimeoutMs = int('settle-timeout', values['settle-timeout'], 1) * 1000;
if (values.only && values.only !== 'A' && values.only !== 'B') fail(`--only: A or B, got ${values.only}`);
const projects = values.only ? [values.only as 'A' | 'B'] : (['A', 'B'] as const);

const env = (name: string, fallback?: string) => {
  const v = process.env[name] ?? fallback;
  if (!v) fail(`${name}: required (./stack/stack.sh env prints it)`);
  return v;
};
const intake = {
  url: env('INTAKE_URL', 'http://127.0.0.1:3000'),
  apiKey: projects.includes('B') ? env('INTAKE_API_KEY') : '',
};
const providerUrl = env('PROVIDER_URL', 'http://127.0.0.1:4010');
const shadowTarget: ShadowTarget | undefined = values.shadow
  ? {
      intake: {
        url: env('SHADOW_INTAKE_URL', 'http://127.0.0.1:3010'),
        apiKey: env('SHADOW_INTAKE_API_KEY'),
      },
      providerUrl: env('SANDBOX_PROVIDER_URL', 'http://127.0.0.1:4011'),
    }
  : undefined;
if (shadowTarget?.providerUrl === providerUrl)
  fail('SANDBOX_PROVIDER_URL: must not be the pipeline provider');

let data: Awaited<ReturnType<typeof loadTestData>>;
let expectedPost: Awaited<ReturnType<typeof loadExpectations>>;
let expectedPre: Awaited<ReturnType<typeof loadExpectations>> | undefined;
try {
  data = await loadTestData(values.data);
  expectedPost = await loadExpectations(values['expected-post']);
  expectedPre = await loadExpectations(values['expected-pre']).catch((err) => {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  });
} catch (err) {
  fail(err instanceof DataFileError ? err.message : `cannot read the data: ${(err as Error).message}`);
}

await mkdir(values.results, { recursive: true });
await mkdir(values.logs, { recursive: true });
const runId = randomBytes(4).toString('hex').slice(0, 6);
const t0 = Date.now();
const timing: Record<string, number> = {};
if (process.env.TIMING_FILE) {
  // Phases the shell ran before this (install, build, stack, services): "name seconds" lines.
  const text = await readFile(process.env.TIMING_FILE, 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    const [name, secs] = line.trim().split(/\s+/);
    if (name && secs && Number.isFinite(Number(secs))) timing[name] = Number(secs);
  }
}
const progress = createProgress(true);
const load = generateLoad(data, loadN, seed);
const concurrency = values.concurrency ? int('concurrency', values.concurrency, 1) : data.load.concurrency;

function fileLogger(file: string) {
  const destination = pino.destination({ dest: file, sync: false, mkdir: true, append: false });
  return { logger: createLogger({ service: 'compare', destination }), destination };
}

const context = (logger: RunContext['logger'], provider = providerUrl): RunContext => ({
  data,
  expectedPost,
  ...(expectedPre ? { expectedPre } : {}),
  load,
  concurrency,
  runId,
  providerUrl: provider,
  settleTimeoutMs,
  progress,
  logger,
  timing,
});

const results: ProjectResults[] = [];
const write = (file: string, value: unknown) => writeFile(file, `${JSON.stringify(value, null, 2)}\n`);
process.stderr.write(
  `run ${runId}: ${data.cases.length} cases from ${values.data} + ${loadN} generated (concurrency ${concurrency})\n`,
);

/** The legacy over the data and the load, at its own instance of the provider mock. */
async function withLegacyProvider<T>(
  logFile: string,
  id: string,
  run: (ctx: RunContext, setup: LegacySetup) => Promise<T>,
): Promise<T> {
  const { logger, destination } = fileLogger(logFile);
  const stateFile = join(root, '.legacy', `bookings-${id}.json`);
  // The legacy books at an instance of its own of the same mock, configured the same way (MOCK_*),
  // so the pipeline's provider holds only the pipeline's bookings (results/invariants.json).
  const providerToken = randomUUID();
  const provider = buildMockApp({ token: providerToken, ...mockOptionsFromEnv() });
  await provider.listen({
    host: '127.0.0.1',
    port: int('LEGACY_PROVIDER_PORT', process.env.LEGACY_PROVIDER_PORT ?? '0', 0),
  });
  const address = provider.server.address() as { port: number };
  try {
    return await run(
      { ...context(logger, `http://127.0.0.1:${address.port}`), runId: id },
      {
        supervisor: join(root, 'legacy', 'src', 'supervisor.js'),
        port: int('LEGACY_PORT', process.env.LEGACY_PORT ?? '3200', 1),
        providerToken,
        stateFile,
      },
    );
  } finally {
    await provider.close();
    destination.flushSync();
  }
}

if (projects.includes('A')) {
  const a = await withLegacyProvider(join(values.logs, 'log_pre.txt'), runId, runLegacy);
  results.push(a);
  await write(join(values.results, 'results_pre.json'), a);
  process.stderr.write(line(a));
}

if (projects.includes('B')) {
  const file = join(values.logs, 'log_post.txt');
  const { logger, destination } = fileLogger(file);
  const marks = await serviceLogMarks(values.logs);
  let acknowledged: string[] = [];
  const b = await runPipeline(context(logger), intake, (ids) => {
    acknowledged = ids;
  });
  // The ids answered 202, for `check:invariants --acks` (run_all.sh).
  await write(join(values.results, 'acks_post.json'), acknowledged);
  destination.flushSync();
  await appendServiceLogs(values.logs, marks, file);
  results.push(b);
  await write(join(values.results, 'results_post.json'), b);
  process.stderr.write(line(b));
}

const sections: string[] = [];
const a0 = results.find((r) => r.project === 'A');
if (shadowTarget && a0) {
  shadowTarget.journalDir = join(values.logs, 'mirror', runId);
  // The legacy serves the same requests again, now through the mirror that copies each booking to
  // the shadow deployment; the first legacy run is the noise baseline (fields that differ by
  // themselves between two legacy runs of the same requests).
  const ts = Date.now();
  process.stderr.write(
    `shadow: the legacy again, through the mirror, copying to ${shadowTarget.intake.url} (sandbox ${shadowTarget.providerUrl})\n`,
  );
  // Its own phase times (shadow_legacy_cases, …, shadow_settle), not Project A's.
  const phases: Record<string, number> = {};
  const mirrored = await withLegacyProvider(join(values.logs, 'log_shadow.txt'), `${runId}s`, (ctx, setup) =>
    runLegacyMirrored({ ...ctx, timing: phases }, setup, shadowTarget),
  );
  for (const [k, v] of Object.entries(phases)) timing[k.replace(/^project_a_/, 'shadow_legacy_')] = v;
  const { report } = shadowFromRuns(mirrored.legacy, a0, mirrored.shadow);
  await write(join(values.results, 'shadow_results.json'), {
    legacy: mirrored.legacy,
    shadow: mirrored.shadow,
  });
  await write(join(values.results, 'shadow_report.json'), report);
  // The live comparison a cutover runs (npm run shadow-report), over this run's mirror journal and
  // the shadow's status API: the harness is one of its clients.
  const live = await compareLive(
    {
      journalDir: shadowTarget.journalDir!,
      comparisonsPath: join(shadowTarget.journalDir!, 'comparisons.jsonl'),
      status: statusReader(shadowTarget.intake.url, shadowTarget.intake.apiKey),
      boundMs: 0,
    },
    { minDays: 0 },
  );
  await write(join(values.results, 'shadow_live_report.json'), live);
  sections.push(renderShadowSection(report, mirrored, live));
  timing.shadow = Number(((Date.now() - ts) / 1000).toFixed(2));
  process.stderr.write(
    `shadow: ${mirrored.pairs.length} requests mirrored; ${report.counts.match} match, ${report.counts.mismatch} mismatch, ` +
      `${report.counts.missing} missing, ${report.counts['candidate-error']} candidate errors, ${report.counts.ignored} ignored; ` +
      `gate ${report.gate.passed ? 'passed' : 'not passed'}\n`,
  );
}

const t = Date.now();
const chartFile = join(values.results, 'latency.svg');
await writeFile(chartFile, await renderSvg(latencySpec(results)));
const agg = aggregate(results, {
  run_id: runId,
  data_file: relative(process.cwd(), resolvePath(values.data)) || values.data,
  load: loadN,
  seed,
  concurrency,
});
await write(join(values.results, 'aggregated_metrics.json'), agg);
timing.report = Number(((Date.now() - t) / 1000).toFixed(2));
timing.comparison_total = Number(((Date.now() - t0) / 1000).toFixed(2));
await write(join(values.results, 'timing.json'), { run_id: runId, seconds: timing });
await writeFile(
  values.report,
  renderReport({
    runId,
    // Named as a reader finds it: relative to the report (the repository's root), not this machine's path.
    dataFile: relative(dirname(resolvePath(values.report)), resolvePath(values.data)) || values.data,
    load: loadN,
    results,
    deltas: agg.deltas,
    chartPath: relative(dirname(resolvePath(values.report)), resolvePath(chartFile)),
    timing,
    sections,
  }),
);
process.stderr.write(
  `wrote ${values.report}, ${values.results}/{results_pre,results_post,aggregated_metrics,timing}.json\n`,
);

const b = results.find((r) => r.project === 'B');
const missed = b ? b.cases.filter((c) => c.correct === false) : [];
if (missed.length) {
  process.stderr.write(`Project B: ${missed.length} case(s) do not match their expectation:\n`);
  for (const c of missed.slice(0, 20))
    process.stderr.write(`  ${c.case_id} (${c.scenario}): ${c.mismatches.join('; ')}\n`);
}
process.exit(missed.length ? 1 : 0);

function line(r: ProjectResults): string {
  const s = r.summary;
  return (
    `Project ${r.project} (${r.name}): ${s.correct}/${s.total} correct (${(s.success_rate * 100).toFixed(1)} %), ` +
    `p50 ${s.p50_ms ?? '–'} ms, p95 ${s.p95_ms ?? '–'} ms, p99 ${s.p99_ms ?? '–'} ms, ` +
    `duplicates ${s.duplicate_bookings}, ghosts ${s.ghost_bookings}, DLT ${s.dlt_total}, retries ${s.retries_total}, ` +
    `idempotency ${s.idempotency_assertions.passed}/${s.idempotency_assertions.checked}` +
    `${s.crashes !== undefined ? `, crashes ${s.crashes}` : ''}\n`
  );
}

async function serviceLogMarks(dir: string): Promise<Map<string, number>> {
  const marks = new Map<string, number>();
  for (const s of SERVICES) {
    const size = await stat(join(dir, `${s}.log`)).then(
      (x) => x.size,
      () => undefined,
    );
    if (size !== undefined) marks.set(s, size);
  }
  return marks;
}

/** The pipeline services' own lines written during Project B (already JSON and masked). */
async function appendServiceLogs(dir: string, marks: Map<string, number>, into: string) {
  const out = await open(into, 'a');
  try {
    for (const [s, from] of marks) {
      const fh = await open(join(dir, `${s}.log`), 'r');
      try {
        const { size } = await fh.stat();
        const buf = Buffer.alloc(size - from);
        await fh.read(buf, 0, buf.length, from);
        for (const l of buf.toString('utf8').split('\n')) if (l.startsWith('{')) await out.write(`${l}\n`);
      } finally {
        await fh.close();
      }
    }
  } finally {
    await out.close();
  }
}
