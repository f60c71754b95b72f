// Issue 12's fuzz harness, short: hostile HTTP requests and hostile records on every consumed topic of
// a pipeline of its own; then no 5xx, every service healthy, every bad record in a DLT (or audit's
// trail) with its reason, every group's lag drained, no personal data in any log. `npm run fuzz` is
// the long run against the stack. FUZZ_HTTP / FUZZ_RECORDS size this one. Figures: results/fuzz-short.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { consumedTopics, foreignOf, fuzz, materialFor } from '@booking/fuzz';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kafkaClient, logger, serde } from '../support/helpers.js';
import { API_KEY, type Pipeline, startPipeline } from '../support/pipeline.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline('fuzz');
});
afterAll(async () => {
  await p?.stop();
});

describe('fuzz (short)', () => {
  it('answers no 5xx, loses no bad record, stays healthy and leaks nothing', {
    timeout: 280_000,
  }, async () => {
    const s = serde();
    const result = await fuzz(
      {
        intakeUrl: p.intakeUrl,
        apiKey: API_KEY,
        kafka: kafkaClient(),
        serde: s,
        topics: consumedTopics(p.topics, [300, 1200]),
        material: materialFor(s, foreignOf(p.topics)),
        auditLogPath: p.auditLogPath,
        health: p.healthUrls,
        groups: (g) => g.startsWith(`${p.prefix}.`),
        logs: [join(ROOT, 'logs', 'tests')],
        logger,
      },
      {
        http: Number(process.env.FUZZ_HTTP ?? 1500),
        recordsPerTopic: Number(process.env.FUZZ_RECORDS ?? 40),
        seed: Number(process.env.FUZZ_SEED ?? 20261201),
        concurrency: 16,
        settleBoundMs: 120_000,
      },
    );
    mkdirSync(join(ROOT, 'results'), { recursive: true });
    writeFileSync(join(ROOT, 'results', 'fuzz-short.json'), `${JSON.stringify(result, null, 2)}\n`);
    expect(result.http.sent).toBeGreaterThan(1000);
    expect(result.http.serverErrors).toEqual([]);
    // Issue 31's classes: each HTTP rule answered as the RFC says, each codec carried bad records.
    expect(result.rules.violations).toEqual([]);
    const ruleKinds = Object.keys(result.rules.byKind).join('\n');
    for (const k of [
      'scheme',
      'repeated host',
      'repeated authorization',
      'content-encoding',
      'control character',
    ])
      expect(ruleKinds).toContain(k);
    for (const codec of ['none', 'gzip', 'snappy', 'lz4', 'zstd'])
      expect(
        result.kafka.some((k) => (k.byCodec[codec] ?? 0) > 0),
        codec,
      ).toBe(true);
    expect(result.lost).toEqual([]);
    expect(result.unhealthy).toEqual([]);
    expect(result.lagging).toEqual([]);
    expect(result.piiHits).toEqual([]);
    expect(result.kafka.every((k) => k.accountedFor === k.sent)).toBe(true);
  });
});
