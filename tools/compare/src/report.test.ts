import { describe, expect, it } from 'vitest';
import { deltas } from './aggregate.js';
import { latencySpec, logDomain, renderSvg } from './chart.js';
import type { CaseResult } from './outcome.js';
import { renderReport } from './report.js';
import type { ProjectResults } from './runner.js';
import { summarize } from './summary.js';
import { caseResult } from './test-fixtures.js';

const c = caseResult;
const project = (p: 'A' | 'B', cases: CaseResult[]): ProjectResults => ({
  project: p,
  name: p,
  started_at: '',
  finished_at: '',
  cases,
  summary: summarize(cases),
});

const a = project('A', [
  c({
    case_id: 'C02',
    scenario: 'pending',
    final_state: 'NONE',
    correct: false,
    latency_ms: null,
    bookings: 3,
    duplicate_bookings: 2,
    ghost_bookings: 3,
    mismatches: ['state: expected CONFIRMED, got NONE'],
    reproduced: true,
  }),
]);
const b = project('B', [
  c({ case_id: 'C02', scenario: 'pending', latency_ms: 700 }),
  c({ case_id: 'L00001', template_id: 'C01' }),
]);

describe('report and chart', () => {
  it('shows the case diff, the duplicate and ghost bookings, the chart and the rollout gates', () => {
    const md = renderReport({
      runId: 'r1',
      dataFile: 'data/test_data.json',
      load: 1,
      results: [a, b],
      deltas: deltas(a.summary, b.summary),
      chartPath: 'results/latency.svg',
      timing: { install: 3 },
    });
    expect(md).toContain('**Project B matches its expectations on every case (2/2).**');
    expect(md).toContain(
      '| C02 | pending | CONFIRMED | NONE (3 booked) | 2 / 3 | **no** | CONFIRMED | 0 / 0 | yes | yes |',
    );
    expect(md).toContain('with ghost bookings:\n  C02');
    expect(md).toContain('![Latency, client send to final state](results/latency.svg)');
    for (const stage of ['**Shadow**', '**Canary by clinic cohort**', '**Full**', '**Rollback path.**'])
      expect(md).toContain(stage);
  });

  it('renders the latency chart as SVG with both projects', async () => {
    const svg = await renderSvg(latencySpec([a, b]));
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('B: pipeline');
  });

  it('draws every bar to scale on the log axis, with its value beside it (issue 19: every bar was 0 high)', async () => {
    const svg = await renderSvg(latencySpec([a, b]));
    // Each bar is a path `M x,y h w v height h -w Z`; its aria-label carries its value.
    const bars = [
      ...svg.matchAll(
        /<path aria-label="([^"]*)" role="graphics-symbol" aria-roledescription="bar" d="M[^,]+,([\d.]+)h[\d.]+v([\d.]+)h/g,
      ),
    ].map((m) => ({ label: m[1]!, height: Number(m[3]) }));
    expect(bars.length).toBeGreaterThan(0);
    const plotHeight = 260;
    const [lo, hi] = logDomain(
      [a, b].flatMap((r) => [
        r.summary.p50_ms ?? 0,
        r.summary.p95_ms ?? 0,
        r.summary.p99_ms ?? 0,
        ...Object.values(r.summary.by_scenario).map((s) => s.p95_ms ?? 0),
      ]),
    );
    for (const bar of bars) {
      const ms = Number(/ms: ([\d,.]+)/.exec(bar.label)?.[1]?.replace(/,/g, ''));
      expect(Number.isFinite(ms)).toBe(true);
      // On a log axis from lo to hi over 260 px, a bar of `ms` is this high (to a pixel).
      const expected = (plotHeight * Math.log10(ms / lo)) / Math.log10(hi / lo);
      expect(Math.abs(bar.height - expected)).toBeLessThan(1);
    }
    // The values are printed beside the bars, and the axis has its decade ticks.
    expect(svg).toContain(`>${hi.toLocaleString('en-US')}</text>`);
  });
});
