// The latency chart the report embeds: Vega-Lite rendered to SVG without a browser.
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { ProjectResults } from './runner.js';

const LABEL = { A: 'A: legacy', B: 'B: pipeline' } as const;

export function latencySpec(results: ProjectResults[]): TopLevelSpec {
  const overall = results.flatMap((r) =>
    (['p50_ms', 'p95_ms', 'p99_ms'] as const).flatMap((k) =>
      r.summary[k] === null
        ? []
        : [{ project: LABEL[r.project], percentile: k.slice(0, 3), ms: r.summary[k] }],
    ),
  );
  const perScenario = results.flatMap((r) =>
    Object.entries(r.summary.by_scenario).flatMap(([scenario, s]) =>
      s.p95_ms === null ? [] : [{ project: LABEL[r.project], scenario, ms: s.p95_ms }],
    ),
  );
  const color = {
    field: 'project',
    type: 'nominal' as const,
    scale: { domain: [LABEL.A, LABEL.B], range: ['#c0392b', '#2471a3'] },
    legend: { orient: 'top' as const, title: null },
  };
  const y = (title: string) => ({
    field: 'ms',
    type: 'quantitative' as const,
    title,
    scale: { type: 'log' as const },
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Latency: client send to final state (log scale)',
    hconcat: [
      {
        title: 'All cases',
        data: { values: overall },
        mark: { type: 'bar', tooltip: true },
        width: 220,
        height: 260,
        encoding: {
          x: { field: 'percentile', type: 'nominal', title: null, sort: ['p50', 'p95', 'p99'] },
          xOffset: { field: 'project' },
          y: y('ms'),
          color,
        },
      },
      {
        title: 'p95 by scenario',
        data: { values: perScenario },
        mark: { type: 'bar', tooltip: true },
        width: 560,
        height: 260,
        encoding: {
          x: { field: 'scenario', type: 'nominal', title: null, axis: { labelAngle: -35 } },
          xOffset: { field: 'project' },
          y: y('p95 ms'),
          color,
        },
      },
    ],
  } as TopLevelSpec;
}

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
