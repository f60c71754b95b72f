// Shadow comparison on the real stack (issue 6): the legacy serves a mixed load, the same requests
// reach the pipeline as a shadow, a second legacy run gives the noise baseline; mismatches injected
// on purpose are all detected, and none is reported where there is none.
import {
  generateLoad,
  loadExpectations,
  loadTestData,
  type ProjectResults,
  type RunContext,
  runLegacy,
  runPipeline,
  shadowFromRuns,
} from '@booking/compare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, repoPath, silentLogger, silentProgress } from '../support/compare.js';
import { API_KEY, type Pipeline, startPipeline, TOKEN } from '../support/pipeline.js';

const repo = repoPath;
const logger = silentLogger;
const silent = silentProgress;

let p: Pipeline;
let legacy: ProjectResults;
let legacyAgain: ProjectResults;
let shadow: ProjectResults;

beforeAll(async () => {
  p = await startPipeline('shadow', { mock: { delayMs: 3000, pendingMs: 300 } });
  const data = await loadTestData(repo('data/test_data.json'));
  const post = await loadExpectations(repo('data/expected_postchange.json'));
  const load = generateLoad(data, 40, 11);
  const ctx = (runId: string): RunContext => ({
    data,
    expectedPost: post,
    load,
    // One at a time: the legacy's crash collateral would otherwise make the baseline noisy.
    concurrency: 1,
    runId,
    providerUrl: p.mockUrl,
    settleTimeoutMs: 120_000,
    progress: silent,
    logger,
    timing: {},
  });
  const setup = async () => ({
    supervisor: repo('legacy/src/supervisor.js'),
    port: await freePort(),
    providerToken: TOKEN,
    stateFile: repo(`.legacy/shadow-it-${Date.now()}.json`),
  });
  // Run ids unique per test run: idempotency keys are derived from them and Redis outlives a run.
  const id = () => Math.random().toString(36).slice(2, 8);
  legacy = await runLegacy(ctx(id()), await setup());
  legacyAgain = await runLegacy(ctx(id()), await setup());
  shadow = await runPipeline(ctx(id()), { url: p.intakeUrl, apiKey: API_KEY });
}, 300_000);
afterAll(async () => {
  await p?.stop();
});

describe('shadow comparison', () => {
  it('reports no mismatch where there is none; known legacy defects and lost requests are ignored by name', () => {
    const { report } = shadowFromRuns(legacy, legacyAgain, shadow, { requiredCompared: 10 });
    expect(report.counts.mismatch).toBe(0);
    expect(report.counts.missing).toBe(0);
    expect(report.counts['candidate-error']).toBe(0);
    expect(report.counts.match).toBeGreaterThan(0);
    expect(Object.keys(report.ignored_by_rule)).toContain('known-legacy-defect');
    expect(report.noise.noisy).toEqual([]);
    // Fewer than 3,000 compared: the bound (3/n) is above 0.1 %, so the gate cannot pass yet.
    expect(report.gate.upper_bound_95).toBeCloseTo(3 / report.gate.compared, 6);
    expect(report.gate.passed).toBe(false);
  });

  it('detects every injected mismatch, with its field path, and only those', () => {
    const confirmedByLegacy = new Set(
      legacy.cases
        .filter((c) => c.scenario === 'immediate' && c.final_state === 'CONFIRMED')
        .map((c) => c.case_id),
    );
    const injected = shadow.cases
      .filter((c) => confirmedByLegacy.has(c.case_id))
      .slice(0, 3)
      .map((c) => c.case_id);
    expect(injected).toHaveLength(3);
    const tampered: ProjectResults = {
      ...shadow,
      cases: shadow.cases.map((c) =>
        injected.includes(c.case_id) ? { ...c, final_state: 'REJECTED', bookings: 0 } : c,
      ),
    };
    const { report, classified } = shadowFromRuns(legacy, legacyAgain, tampered, { requiredCompared: 10 });
    const flagged = classified.filter((c) => c.result.kind === 'mismatch').map((c) => c.requestId);
    expect(flagged.sort()).toEqual([...injected].sort());
    expect(report.mismatches_by_path.state!.count).toBe(3);
    expect(report.mismatches_by_path.bookings!.count).toBe(3);
    expect(report.gate.passed).toBe(false);
  });

  it('counts a shadow outcome that never arrived as missing and a failed one as a candidate error', () => {
    const [gone, broken] = shadow.cases.filter((c) => c.scenario === 'immediate').map((c) => c.case_id);
    const candidate: ProjectResults = {
      ...shadow,
      cases: shadow.cases
        .filter((c) => c.case_id !== gone)
        .map((c) => (c.case_id === broken ? { ...c, final_state: 'UNKNOWN' } : c)),
    };
    const { classified } = shadowFromRuns(legacy, legacyAgain, candidate);
    const kind = (id: string | undefined) => classified.find((c) => c.requestId === id)?.result.kind;
    // a legacy outcome lost by the legacy itself is ignored before anything else
    if (legacy.cases.find((c) => c.case_id === gone)?.final_state !== 'NONE')
      expect(kind(gone)).toBe('missing');
    if (legacy.cases.find((c) => c.case_id === broken)?.final_state !== 'NONE')
      expect(kind(broken)).toBe('candidate-error');
  });
});
