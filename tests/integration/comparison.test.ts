// Project A against Project B over data/test_data.json (issue 5), with the real broker, registry and
// Redis: the legacy reconstruction reproduces every failure expected_prechange.json predicts (the
// hypothesis chains of docs/design.md), and the pipeline meets expected_postchange.json on every
// canonical case and on generated load.

import { writeFileSync } from 'node:fs';
import {
  type ExpectationFile,
  generateLoad,
  loadExpectations,
  loadTestData,
  type ProjectResults,
  type RunContext,
  renderEvidence,
  runLegacy,
  runPipeline,
  type TestDataFile,
} from '@booking/compare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, repoPath, silentLogger, silentProgress } from '../support/compare.js';
import { API_KEY, type Pipeline, startPipeline, TOKEN } from '../support/pipeline.js';

const repo = repoPath;
const silent = silentProgress;
const logger = silentLogger;
const timing: Record<string, number> = {};

let p: Pipeline;
let data: TestDataFile;
let post: ExpectationFile;
let pre: ExpectationFile;
let a: ProjectResults;
let b: ProjectResults;
const context = (load: number): RunContext => ({
  data,
  expectedPost: post,
  expectedPre: pre,
  load: generateLoad(data, load, 3),
  concurrency: 8,
  runId: Math.random().toString(36).slice(2, 8),
  providerUrl: p.mockUrl,
  settleTimeoutMs: 120_000,
  progress: silent,
  logger,
  timing,
});

beforeAll(async () => {
  // The stack's mock timings: answers 3 s late on `delayed` (past the client's 2 s timeout and
  // dispatch's 2 s provider timeout), pending resolves after 300 ms.
  p = await startPipeline('compare', { mock: { delayMs: 3000, pendingMs: 300 } });
  data = await loadTestData(repo('data/test_data.json'));
  post = await loadExpectations(repo('data/expected_postchange.json'));
  pre = await loadExpectations(repo('data/expected_prechange.json'));
  a = await runLegacy(context(0), {
    supervisor: repo('legacy/src/supervisor.js'),
    port: await freePort(),
    providerToken: TOKEN,
    stateFile: repo(`.legacy/it-${Date.now()}.json`),
  });
  b = await runPipeline(context(60), { url: p.intakeUrl, apiKey: API_KEY });
}, 240_000);
afterAll(async () => {
  console.log('comparison phases (s):', JSON.stringify(timing));
  await p?.stop();
});

describe('Project A vs Project B over the canonical cases', () => {
  it('the legacy does what expected_prechange.json predicts, case by case', () => {
    const differing = a.cases
      .filter((c) => c.reproduced !== true)
      .map((c) => `${c.case_id}: ${c.prechange_mismatches}`);
    expect(differing).toEqual([]);
    expect(a.cases).toHaveLength(data.cases.length);
  });

  it('the legacy books twice and leaves ghosts where the pipeline does neither', () => {
    const legacy = (id: string) => a.cases.find((c) => c.case_id === id)!;
    expect(legacy('C02').final_state).toBe('NONE');
    expect(legacy('C02').ghost_bookings).toBeGreaterThanOrEqual(2);
    expect(legacy('C02').crashes).toBeGreaterThanOrEqual(2);
    expect(legacy('C09')).toMatchObject({ final_state: 'FAILED', ghost_bookings: 3 });
    expect(legacy('C08').duplicate_bookings).toBe(2);
    expect(legacy('C11').duplicate_bookings).toBe(4);
    expect(a.summary.duplicate_bookings).toBeGreaterThan(0);
    expect(a.summary.ghost_bookings).toBeGreaterThan(0);
    expect(b.summary.duplicate_bookings).toBe(0);
    expect(b.summary.ghost_bookings).toBe(0);
  });

  it('the pipeline matches expected_postchange.json on every canonical and generated case', () => {
    const missed = b.cases.filter((c) => c.correct !== true).map((c) => `${c.case_id}: ${c.mismatches}`);
    expect(missed).toEqual([]);
    expect(b.cases).toHaveLength(data.cases.length + 60);
    expect(b.summary.idempotency_assertions.passed).toBe(b.summary.idempotency_assertions.checked);
  });

  it("the report's evidence shows, per wrong legacy case, its rows, the provider's answers and the pipeline's trail", () => {
    const legacy = (id: string) => a.cases.find((c) => c.case_id === id)!;
    // C09 (ghost): the provider booked three times, the legacy recorded failures.
    const ghost = legacy('C09').evidence?.legacy;
    expect(ghost?.requests.length).toBeGreaterThanOrEqual(3);
    expect(ghost?.rows.every((r) => r.status === 'FAILED')).toBe(true);
    expect(ghost?.provider.length).toBeGreaterThanOrEqual(3);
    // C02 (pending): the legacy crashed while the case ran; its supervisor's lines say so.
    expect(legacy('C02').evidence?.legacy?.log.some((l) => l.service === 'legacy-supervisor')).toBe(true);
    // A case the legacy gets right carries no evidence.
    expect(a.cases.filter((c) => c.correct === true && c.evidence)).toEqual([]);
    const trail = b.cases.find((c) => c.case_id === 'C09')!.evidence?.pipeline;
    expect(trail?.appointmentIds).toHaveLength(1);
    expect(trail?.trail.at(-1)?.to).toBe(b.cases.find((c) => c.case_id === 'C09')!.final_state);
    const text = renderEvidence(a.cases, b.cases);
    writeFileSync(repo('logs/tests/compare-evidence.md'), text);
    for (const id of ['C02', 'C08', 'C09', 'C11']) expect(text).toContain(`### ${id} (`);
    // No personal data from the data file reaches the report.
    for (const c of data.cases) {
      const patient = (c.request.body as { patient?: Record<string, string> } | undefined)?.patient ?? {};
      for (const v of [patient.name, patient.phone, patient.email]) if (v) expect(text).not.toContain(v);
    }
  });
});
