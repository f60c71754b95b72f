// Issue 19: the report's latency chart, as a reader sees it. The SVG the report embeds is rendered
// by headless Chromium (Debian's package), and each bar's drawn height is read back from the
// browser's layout and held against its value on the log axis; the decade ticks are labelled, each
// bar's value is printed beside it, and hovering a bar shows its value (its <title>).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  caseResult,
  latencySpec,
  logDomain,
  type ProjectResults,
  renderSvg,
  summarize,
} from '@booking/compare';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { repoPath } from '../support/compare.js';

const base = caseResult();
// Latencies over four decades, as a real run has them (12 ms immediate, 30 s through the retries).
const LATENCIES: Record<string, number[]> = {
  immediate: [12, 15, 18, 25, 40],
  pending: [350, 420, 800],
  flaky: [1_200, 5_200, 9_000],
  'always-fail': [28_000, 31_000],
};
function project(p: 'A' | 'B', factor: number): ProjectResults {
  const cases = Object.entries(LATENCIES).flatMap(([scenario, ms], i) =>
    ms.map((v, j) => ({ ...base, case_id: `C${i}${j}`, scenario, latency_ms: Math.round(v * factor) })),
  );
  return { project: p, name: p, started_at: '', finished_at: '', cases, summary: summarize(cases) };
}

describe('the latency chart, rendered by Chromium', () => {
  it('draws every bar to scale on a labelled log axis, with its value beside it and on hover', async () => {
    const results = [project('A', 1.7), project('B', 1)];
    const svg = await renderSvg(latencySpec(results));
    mkdirSync(repoPath('logs/tests'), { recursive: true });
    writeFileSync(join(repoPath('logs/tests'), 'latency-chart.svg'), svg);
    const browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1100, height: 500 } });
      await page.setContent(`<!doctype html><body style="margin:0">${svg}</body>`);
      const bars = await page.$$eval('path[aria-roledescription="bar"]', (els) =>
        els.map((el) => {
          const box = el.getBoundingClientRect();
          return {
            label: el.getAttribute('aria-label') ?? '',
            title: el.querySelector('title')?.textContent ?? '',
            height: box.height,
            bottom: box.bottom,
          };
        }),
      );
      const texts = await page.$$eval('text', (els) => els.map((el) => el.textContent ?? ''));
      // Every percentile of both projects, and the p95 of every scenario of both.
      expect(bars).toHaveLength(2 * 3 + 2 * Object.keys(LATENCIES).length);
      const values = results.flatMap((r) => [
        r.summary.p50_ms!,
        r.summary.p95_ms!,
        r.summary.p99_ms!,
        ...Object.values(r.summary.by_scenario).map((s) => s.p95_ms!),
      ]);
      const [lo, hi] = logDomain(values);
      expect(lo).toBeLessThanOrEqual(10);
      expect(hi).toBeGreaterThanOrEqual(10_000);
      // The plot's height in pixels, from the tallest bar's value (all bars share one axis).
      const plot = 260;
      for (const bar of bars) {
        const ms = Number(/ms: ([\d,.]+)/.exec(bar.label)?.[1]?.replace(/,/g, ''));
        expect(values).toContain(ms);
        const expected = (plot * Math.log10(ms / lo)) / Math.log10(hi / lo);
        expect(bar.height, bar.label).toBeGreaterThan(0);
        expect(Math.abs(bar.height - expected), bar.label).toBeLessThan(1.5);
        // On hover: the browser's tooltip is the bar's <title>, which names its value.
        expect(bar.title).toBe(bar.label);
        // Beside it: the value printed as text.
        expect(texts).toContain(ms.toLocaleString('en-US'));
      }
      // Bars of one panel stand on one baseline (the axis's lowest decade).
      const bottoms = new Set(bars.map((b) => Math.round(b.bottom)));
      expect(bottoms.size).toBe(1);
      // The log axis is labelled at its decades.
      for (let v = lo; v <= hi; v *= 10) expect(texts).toContain(v.toLocaleString('en-US'));
      await page.screenshot({ path: repoPath('logs/tests/latency-chart.png') });
    } finally {
      await browser.close();
    }
  });
});
