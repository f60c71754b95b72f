// Shadow mirroring on the real stack (issue 6). The legacy serves a mixed load through the mirror
// and books at "production"; the mirror copies every booking request to the pipeline running in
// SHADOW_MODE (`.shadow` topics, `shadow.` groups, its own Redis database) that books at a sandbox.
// A direct legacy run over the same requests is the noise baseline. Mismatches injected on purpose
// are all detected, and none is reported where there is none.
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  generateLoad,
  loadExpectations,
  loadTestData,
  type MirroredPair,
  type ProjectResults,
  type RunContext,
  runLegacy,
  runLegacyMirrored,
  shadowFromRuns,
} from '@booking/compare';
import { buildMockApp, type CallRecord } from '@booking/provider-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, repoPath, silentLogger, silentProgress } from '../support/compare.js';
import { kafkaClient, stack } from '../support/helpers.js';
import { API_KEY, type Pipeline, startPipeline } from '../support/pipeline.js';

const PRODUCTION_TOKEN = `production-${randomUUID()}`;
const production = buildMockApp({ token: PRODUCTION_TOKEN, delayMs: 3000, pendingMs: 300 });
let productionUrl: string;
let p: Pipeline;
let baseline: ProjectResults;
let mirrored: { legacy: ProjectResults; shadow: ProjectResults; pairs: MirroredPair[] };

const calls = async (url: string) =>
  ((await (await fetch(`${url}/__mock/calls`)).json()) as { calls: CallRecord[] }).calls;

beforeAll(async () => {
  await production.listen({ host: '127.0.0.1', port: 0 });
  productionUrl = `http://127.0.0.1:${(production.server.address() as { port: number }).port}`;
  p = await startPipeline('shadow', {
    shadow: { productionUrl, productionToken: PRODUCTION_TOKEN },
    mock: { delayMs: 3000, pendingMs: 300 },
  });
  const data = await loadTestData(repoPath('data/test_data.json'));
  const post = await loadExpectations(repoPath('data/expected_postchange.json'));
  const load = generateLoad(data, 40, 11);
  const ctx = (runId: string): RunContext => ({
    data,
    expectedPost: post,
    load,
    // One at a time: the legacy's crash collateral would otherwise make the baseline noisy.
    concurrency: 1,
    runId,
    providerUrl: productionUrl,
    settleTimeoutMs: 120_000,
    progress: silentProgress,
    logger: silentLogger,
    timing: {},
  });
  const setup = async () => ({
    supervisor: repoPath('legacy/src/supervisor.js'),
    port: await freePort(),
    providerToken: PRODUCTION_TOKEN,
    stateFile: repoPath(`.legacy/shadow-it-${randomUUID()}.json`),
  });
  // Run ids unique per test run: idempotency keys are derived from them and Redis outlives a run.
  const id = () => Math.random().toString(36).slice(2, 8);
  baseline = await runLegacy(ctx(id()), await setup());
  mirrored = await runLegacyMirrored(ctx(id()), await setup(), {
    intake: { url: p.intakeUrl, apiKey: API_KEY },
    providerUrl: p.mockUrl,
  });
}, 300_000);
afterAll(async () => {
  await p?.stop();
  await production.close();
});

describe('shadow mirroring', () => {
  it('copies every client attempt to the shadow, which runs on .shadow topics and shadow. groups', async () => {
    const attempts = mirrored.legacy.cases.reduce((n, c) => n + c.responses.length + c.client_retries, 0);
    expect(mirrored.pairs).toHaveLength(attempts);
    for (const pair of mirrored.pairs) {
      expect(pair.legacy, pair.requestId).toBeDefined();
      expect(pair.shadow && 'status' in pair.shadow ? pair.shadow.status : pair.shadow).toBeLessThan(500);
    }
    expect(p.topics.requested.endsWith('.shadow')).toBe(true);
    const admin = kafkaClient().admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchTopicOffsets(p.topics.requested);
      expect(offsets.reduce((n, o) => n + Number(o.high), 0)).toBeGreaterThan(0);
      const prefix = p.topics.requested.slice(0, p.topics.requested.indexOf('.appointments'));
      const groups = (await admin.listGroups()).groups
        .map((g) => g.groupId)
        .filter((g) => g.includes(prefix));
      expect(groups.length).toBeGreaterThan(0);
      expect(groups.filter((g) => !g.startsWith('shadow.'))).toEqual([]);
    } finally {
      await admin.disconnect();
    }
  });

  it('books at the sandbox only: production never sees a shadow appointment', async () => {
    const shadowIds = new Set(
      mirrored.pairs.flatMap((x) => (x.shadow && 'id' in x.shadow && x.shadow.id ? [x.shadow.id] : [])),
    );
    expect(shadowIds.size).toBeGreaterThan(0);
    const sandbox = (await calls(p.mockUrl)).filter((c) => c.externalRef && shadowIds.has(c.externalRef));
    expect(sandbox.length).toBeGreaterThan(0);
    const leaked = (await calls(productionUrl)).filter((c) => c.externalRef && shadowIds.has(c.externalRef));
    expect(leaked).toEqual([]);
  });

  it("the shadow's outcomes are the pipeline's: no duplicate or ghost booking, every case as expected", () => {
    const wrong = mirrored.shadow.cases.filter((c) => c.correct === false);
    expect(wrong.map((c) => `${c.case_id} ${c.scenario}: ${c.mismatches.join('; ')}`)).toEqual([]);
    expect(mirrored.shadow.summary.duplicate_bookings).toBe(0);
    expect(mirrored.shadow.summary.ghost_bookings).toBe(0);
  });

  it('reports no mismatch where there is none; known legacy defects and lost requests are ignored by name', () => {
    const { report } = shadowFromRuns(mirrored.legacy, baseline, mirrored.shadow, { requiredCompared: 10 });
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
      mirrored.legacy.cases
        .filter((c) => c.scenario === 'immediate' && c.final_state === 'CONFIRMED')
        .map((c) => c.case_id),
    );
    const injected = mirrored.shadow.cases
      .filter((c) => confirmedByLegacy.has(c.case_id))
      .slice(0, 3)
      .map((c) => c.case_id);
    expect(injected).toHaveLength(3);
    const tampered: ProjectResults = {
      ...mirrored.shadow,
      cases: mirrored.shadow.cases.map((c) =>
        injected.includes(c.case_id) ? { ...c, final_state: 'REJECTED', bookings: 0 } : c,
      ),
    };
    const { report, classified } = shadowFromRuns(mirrored.legacy, baseline, tampered, {
      requiredCompared: 10,
    });
    const flagged = classified.filter((c) => c.result.kind === 'mismatch').map((c) => c.requestId);
    expect(flagged.sort()).toEqual([...injected].sort());
    expect(report.mismatches_by_path.state!.count).toBe(3);
    expect(report.mismatches_by_path.bookings!.count).toBe(3);
    expect(report.gate.passed).toBe(false);
  });

  it('counts a shadow outcome that never arrived as missing and a failed one as a candidate error', () => {
    const [gone, broken] = mirrored.shadow.cases
      .filter((c) => c.scenario === 'immediate')
      .map((c) => c.case_id);
    const candidate: ProjectResults = {
      ...mirrored.shadow,
      cases: mirrored.shadow.cases
        .filter((c) => c.case_id !== gone)
        .map((c) => (c.case_id === broken ? { ...c, final_state: 'UNKNOWN' } : c)),
    };
    const { classified } = shadowFromRuns(mirrored.legacy, baseline, candidate);
    const kind = (id: string | undefined) => classified.find((c) => c.requestId === id)?.result.kind;
    // a legacy outcome lost by the legacy itself is ignored before anything else
    if (mirrored.legacy.cases.find((c) => c.case_id === gone)?.final_state !== 'NONE')
      expect(kind(gone)).toBe('missing');
    if (mirrored.legacy.cases.find((c) => c.case_id === broken)?.final_state !== 'NONE')
      expect(kind(broken)).toBe('candidate-error');
  });

  it("a shadow deployment refuses to start with the production provider's URL or token", () => {
    const s = stack();
    const shadowEnv = {
      ...process.env,
      KAFKA_BROKERS: s.kafkaBrokers,
      SCHEMA_REGISTRY_URL: s.schemaRegistryUrl,
      REDIS_URL: `${s.redisUrl}/1`,
      SHADOW_MODE: 'true',
      PRODUCTION_PROVIDER_URL: productionUrl,
      PRODUCTION_PROVIDER_TOKEN: PRODUCTION_TOKEN,
      DISPATCH_HTTP_PORT: '0',
    };
    const start = (env: Record<string, string | undefined>) =>
      spawnSync(process.execPath, [repoPath('services/provider-dispatch/dist/main.js')], {
        env,
        encoding: 'utf8',
        timeout: 30_000,
      });
    const byUrl = start({
      ...shadowEnv,
      PROVIDER_URL: `${productionUrl}/api/v2`,
      PROVIDER_TOKEN: 'sandbox-1234',
    });
    expect(byUrl.status).toBe(1);
    expect(byUrl.stderr).toContain('PROVIDER_URL: is the production provider');
    const byToken = start({ ...shadowEnv, PROVIDER_URL: p.mockUrl, PROVIDER_TOKEN: PRODUCTION_TOKEN });
    expect(byToken.status).toBe(1);
    expect(byToken.stderr).toContain('PROVIDER_TOKEN: is the production token');
  });
});
