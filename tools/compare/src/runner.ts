// Runs one project over the canonical cases and then the generated load, and turns what the client
// saw, what the project recorded and what the provider holds into results (docs/comparison.md).

import { readFile } from 'node:fs/promises';
import { isDropped, type Mirror, type MirroredPair, startMirror } from '@booking/cutover';
import type { Logger } from '@booking/kit';
import pLimit from 'p-limit';
import { type Attempt, type CaseRun, runCase, type Target } from './client.js';
import type { Expectation, ExpectationFile, TestCase, TestDataFile } from './data-file.js';
import { legacyEvidence, pipelineEvidence, wrongLegacyCases } from './evidence.js';
import { mismatches, OUTCOME_KEYS } from './expect.js';
import type { GeneratedCase } from './generate.js';
import { startLegacy } from './legacy-process.js';
import {
  type CaseResult,
  type LegacyRecord,
  type Measured,
  measure,
  type Observation,
  observeLegacy,
  observePipeline,
} from './outcome.js';
import { type IntakeApi, readViews, waitTerminal } from './pipeline-observer.js';
import type { Progress } from './progress.js';
import { readProvider } from './provider.js';
import { type Summary, summarize } from './summary.js';

export type Project = 'A' | 'B';

export interface ProjectResults {
  project: Project;
  name: string;
  started_at: string;
  finished_at: string;
  cases: CaseResult[];
  summary: Summary;
}

export interface RunContext {
  data: TestDataFile;
  expectedPost: ExpectationFile;
  expectedPre?: ExpectationFile;
  load: GeneratedCase[];
  concurrency: number;
  runId: string;
  providerUrl: string;
  settleTimeoutMs: number;
  progress: Progress;
  logger: Logger;
  /** Wall time of each phase, seconds; the runner adds its own. */
  timing: Record<string, number>;
}

export interface LegacySetup {
  supervisor: string;
  port: number;
  providerToken: string;
  stateFile: string;
}

interface Sent {
  run: CaseRun;
  testCase: TestCase;
  templateId?: string;
  crashes?: number;
}

const secondsSince = (t: number) => Number(((Date.now() - t) / 1000).toFixed(2));

function expectationFor(ctx: RunContext, c: TestCase): Expectation | undefined {
  return ctx.expectedPost.cases[c.id] ?? c.expect;
}

async function sendAll(
  ctx: RunContext,
  project: Project,
  target: Target,
  beforeEach: () => Promise<void>,
  afterEach: (s: Sent) => Promise<void>,
): Promise<Sent[]> {
  const sent: Sent[] = [];
  const phase = project === 'A' ? 'project_a' : 'project_b';
  const ctxFor = (id: string) => ({
    caseId: id,
    uid: `${ctx.runId}${project.toLowerCase()}-${id}`,
    now: Date.now(),
  });

  let t = Date.now();
  ctx.progress.start(`Project ${project}: cases`, ctx.data.cases.length);
  for (const c of ctx.data.cases) {
    await beforeEach();
    const s: Sent = { run: await runCase(target, c, ctxFor(c.id), ctx.data.client), testCase: c };
    await afterEach(s);
    sent.push(s);
    ctx.progress.update(sent.length);
  }
  ctx.progress.stop();
  ctx.timing[`${phase}_cases`] = secondsSince(t);

  if (ctx.load.length) {
    t = Date.now();
    const limit = pLimit(ctx.concurrency);
    let done = 0;
    ctx.progress.start(`Project ${project}: load`, ctx.load.length);
    const runs = await Promise.all(
      ctx.load.map((g) =>
        limit(async () => {
          const run = await runCase(target, g.template, ctxFor(g.id), ctx.data.client);
          ctx.progress.update(++done);
          return {
            run: { ...run, scenario: g.template.scenario },
            testCase: g.template,
            templateId: g.template.id,
          };
        }),
      ),
    );
    ctx.progress.stop();
    sent.push(...runs);
    ctx.timing[`${phase}_load`] = secondsSince(t);
  }
  return sent;
}

/**
 * The legacy is judged on outcomes only (its answers are known to be wrong), and so is a shadow: its
 * answers went to the mirror, not the client, and the client retried on the legacy's answers.
 */
function judge(
  ctx: RunContext,
  project: Project,
  s: Sent,
  m: Measured,
  outcomesOnly = project === 'A',
): CaseResult {
  const exp = expectationFor(ctx, s.testCase);
  const anyOrder = s.testCase.send.mode === 'concurrent';
  const found = exp ? mismatches(m, exp, { anyOrder, ...(outcomesOnly ? { only: OUTCOME_KEYS } : {}) }) : [];
  const result: CaseResult = {
    ...m,
    expected_state: exp?.state ?? null,
    correct: exp ? found.length === 0 : null,
    mismatches: found,
  };
  if (project === 'A' && !s.templateId) {
    const pre = ctx.expectedPre?.cases[s.testCase.id];
    const differs = pre ? mismatches(m, pre, { anyOrder }) : [];
    result.reproduced = pre ? differs.length === 0 : null;
    result.prechange_mismatches = differs;
  }
  return result;
}

function logCase(log: Logger, r: CaseResult, run: CaseRun) {
  const ids = [...new Set(run.sends.flatMap((s) => (s.id ? [s.id] : [])))];
  log[r.correct === false ? 'warn' : 'info'](
    {
      caseId: r.case_id,
      scenario: r.scenario,
      correlationId: run.uid,
      appointmentId: ids.length === 1 ? ids[0] : undefined,
      appointmentIds: ids.length > 1 ? ids : undefined,
      responses: r.responses,
      clientRetries: r.client_retries,
      finalState: r.final_state,
      expectedState: r.expected_state,
      latencyMs: r.latency_ms,
      bookings: r.bookings,
      duplicateBookings: r.duplicate_bookings,
      ghostBookings: r.ghost_bookings,
      correct: r.correct,
      mismatches: r.mismatches.length ? r.mismatches : undefined,
    },
    'case outcome',
  );
}

function finish(
  project: Project,
  startedAt: number,
  cases: CaseResult[],
  crashes?: number,
  name = project === 'A' ? 'legacy (reconstruction)' : 'pipeline',
): ProjectResults {
  return {
    project,
    name,
    started_at: new Date(startedAt).toISOString(),
    finished_at: new Date().toISOString(),
    cases,
    summary: summarize(cases, crashes),
  };
}

export async function runLegacy(ctx: RunContext, setup: LegacySetup): Promise<ProjectResults> {
  return (await legacyPhase(ctx, setup)).results;
}

/** Where a mirror in front of the legacy sends its copies: the shadow pipeline and its sandbox. */
export interface ShadowTarget {
  /** The shadow deployment's intake: it takes the copies and answers for its appointments. */
  intake: IntakeApi;
  /** The sandbox provider the shadow books at. */
  providerUrl: string;
  /** The mirror's journal directory (JSON lines: each request's legacy answer and shadow answer). */
  journalDir?: string;
}

/**
 * The legacy serving its clients through the mirror while the shadow pipeline gets a copy of
 * every booking request: the legacy's results, and the shadow's, measured from the copies it got.
 */
export async function runLegacyMirrored(
  ctx: RunContext,
  setup: LegacySetup,
  shadow: ShadowTarget,
): Promise<{ legacy: ProjectResults; shadow: ProjectResults; pairs: MirroredPair[] }> {
  const { results, sent, pairs } = await legacyPhase(ctx, setup, shadow);
  const byRequest = new Map(pairs.map((p) => [p.clientRequestId ?? p.requestId, p]));
  const copies = sent.map((s) => ({ ...s, run: shadowRun(s.run, byRequest) }));
  const startedAt = Date.parse(results.started_at);
  const cases = await settlePipeline(ctx, 'shadow', copies, shadow.intake, shadow.providerUrl);
  return { legacy: results, shadow: finish('B', startedAt, cases, undefined, 'pipeline (shadow)'), pairs };
}

/** What the shadow got of a case: each attempt the client made, as the shadow answered its copy. */
export function shadowRun(run: CaseRun, pairs: Map<string, MirroredPair>): CaseRun {
  return {
    ...run,
    sends: run.sends.map((send) => {
      const attempts: Attempt[] = [];
      let id: string | undefined;
      let errorCode: string | undefined;
      for (const a of send.attempts) {
        const answer = pairs.get(a.requestId)?.shadow;
        if (!answer) continue;
        if (isDropped(answer)) {
          attempts.push({
            ...a,
            endedAt: answer.at,
            outcome: 'network',
            error: `dropped by the mirror (${answer.dropped})`,
          });
          continue;
        }
        const outcome = answer.status ?? 'network';
        attempts.push({
          ...a,
          endedAt: answer.at,
          outcome,
          ...(answer.error ? { error: answer.error } : {}),
        });
        id = answer.id ?? id;
        errorCode = answer.errorCode;
      }
      return {
        index: send.index,
        attempts,
        outcome: attempts.at(-1)?.outcome ?? 'network',
        ...(id ? { id } : {}),
        ...(errorCode ? { errorCode } : {}),
      };
    }),
  };
}

async function legacyPhase(
  ctx: RunContext,
  setup: LegacySetup,
  shadow?: ShadowTarget,
): Promise<{ results: ProjectResults; sent: Sent[]; pairs: MirroredPair[] }> {
  const startedAt = Date.now();
  const log = ctx.logger.child({ project: 'A' });
  const legacy = await startLegacy({ ...setup, providerUrl: ctx.providerUrl, logger: ctx.logger });
  let mirror: Mirror | undefined;
  let sent: Sent[];
  let pairs: MirroredPair[] = [];
  try {
    if (shadow) {
      mirror = await startMirror({
        legacyUrl: legacy.url,
        shadowUrl: shadow.intake.url,
        shadowApiKey: shadow.intake.apiKey,
        ...(shadow.journalDir ? { journalDir: shadow.journalDir } : {}),
        retainPairs: true,
        logger: log,
      });
    }
    const target: Target = {
      project: 'A',
      url: `${mirror?.url ?? legacy.url}/appointments`,
      headers: {},
      idOf: (status, body) => (status === 201 ? (body as { id?: string })?.id : undefined),
    };
    let before = 0;
    sent = await sendAll(
      ctx,
      'A',
      target,
      async () => {
        await legacy.waitIdle(30_000);
        before = legacy.crashes.length;
      },
      async (s) => {
        // Canonical cases run one at a time: wait until every answer is written (a delayed one
        // lands after the client gave up), then count the crashes this case caused.
        await legacy.waitIdle(30_000);
        s.crashes = legacy.crashes.length - before;
      },
    );
    const t = Date.now();
    if (!(await legacy.waitIdle(ctx.settleTimeoutMs))) log.warn('the legacy still had requests in flight');
    if (mirror && !(await mirror.drain(ctx.settleTimeoutMs)))
      log.warn('the mirror still had copies in flight');
    ctx.timing.project_a_settle = secondsSince(t);
    pairs = mirror?.pairs() ?? [];
  } finally {
    await mirror?.close();
    await legacy.stop();
  }
  const records = await readLegacyState(setup.stateFile);
  const provider = await readProvider(ctx.providerUrl);
  const cases = sent.map((s) => {
    const seen: Observation = observeLegacy(s.run, records, s.crashes);
    const r = judge(ctx, 'A', s, measure(s.run, seen, provider, s.templateId));
    logCase(log, r, s.run);
    if (wrongLegacyCases([r]).length)
      r.evidence = { legacy: legacyEvidence(s.run, records, legacy.lines, provider) };
    return r;
  });
  return { results: finish('A', startedAt, cases, legacy.crashes.length), sent, pairs };
}

async function readLegacyState(file: string): Promise<LegacyRecord[]> {
  try {
    const db = JSON.parse(await readFile(file, 'utf8')) as { bookings: Record<string, LegacyRecord> };
    return Object.values(db.bookings);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/**
 * Project B. `onAcknowledged` gets every appointment id a client was answered 202 for: the checker's
 * ground truth for "every acknowledged acceptance exists" (issue 20).
 */
export async function runPipeline(
  ctx: RunContext,
  intake: IntakeApi,
  onAcknowledged?: (ids: string[]) => void,
): Promise<ProjectResults> {
  const startedAt = Date.now();
  const target: Target = {
    project: 'B',
    url: `${intake.url}/v1/appointments`,
    headers: { authorization: `Bearer ${intake.apiKey}` },
    idOf: (status, body) =>
      status === 202 ? (body as { appointmentId?: string })?.appointmentId : undefined,
  };
  const sent = await sendAll(
    ctx,
    'B',
    target,
    async () => {},
    async () => {},
  );
  onAcknowledged?.([...new Set(sent.flatMap((s) => s.run.sends.flatMap((x) => (x.id ? [x.id] : []))))]);
  return finish('B', startedAt, await settlePipeline(ctx, 'project_b', sent, intake, ctx.providerUrl));
}

/** Waits (bounded) until the pipeline's appointments are terminal, then measures every case. */
async function settlePipeline(
  ctx: RunContext,
  phase: 'project_b' | 'shadow',
  sent: Sent[],
  intake: IntakeApi,
  providerUrl: string,
): Promise<CaseResult[]> {
  const log = ctx.logger.child({ project: phase === 'shadow' ? 'shadow' : 'B' });
  const ids = [...new Set(sent.flatMap((s) => s.run.sends.flatMap((x) => (x.id ? [x.id] : []))))];
  const t = Date.now();
  ctx.progress.start(phase === 'shadow' ? 'Shadow: settling' : 'Project B: settling', ids.length);
  const open = await waitTerminal(intake, ids, ctx.settleTimeoutMs, (n) => ctx.progress.update(n));
  ctx.progress.stop();
  ctx.timing[`${phase}_settle`] = secondsSince(t);
  if (open.length) log.warn({ open: open.length }, 'appointments not terminal when the bound ran out');
  const views = await readViews(intake, ids);
  const provider = await readProvider(providerUrl);
  return sent.map((s) => {
    const m = measure(s.run, observePipeline(s.run, views), provider, s.templateId);
    const r = judge(ctx, 'B', s, m, phase === 'shadow');
    logCase(log, r, s.run);
    if (!s.templateId && phase === 'project_b') r.evidence = { pipeline: pipelineEvidence(s.run, views) };
    return r;
  });
}
