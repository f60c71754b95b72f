import { describe, expect, it } from 'vitest';
import { deltas } from './aggregate.js';
import { latencySpec, renderSvg } from './chart.js';
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
});
