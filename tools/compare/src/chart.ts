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
  // A log scale needs its domain said: left to Vega-Lite, a bar's domain includes 0, the log of
  // which is -∞, and every bar was drawn with zero height (issue 19). Whole decades around the data.
  const values = [...overall, ...perScenario].map((d) => d.ms).filter((v) => v > 0);
  const domain = logDomain(values);
  const y = (title: string) => ({
    field: 'ms',
    type: 'quantitative' as const,
    title,
    scale: { type: 'log' as const, domain },
    axis: { values: decades(domain), format: ',d' },
  });
  // Bars stand on the axis's lowest decade: left to itself the log scale's bar has no baseline.
  const bar = { mark: { type: 'bar' as const, tooltip: true }, encoding: { y2: { datum: domain[0] } } };
  // Each bar carries its value, on the page and not only on hover.
  const label = {
    mark: { type: 'text' as const, dy: -4, fontSize: 9, baseline: 'bottom' as const },
    encoding: { text: { field: 'ms', type: 'quantitative' as const, format: ',d' } },
  };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Latency: client send to final state (log scale)',
    hconcat: [
      {
        title: 'All cases',
        data: { values: overall },
        width: 220,
        height: 260,
        encoding: {
          x: { field: 'percentile', type: 'nominal', title: null, sort: ['p50', 'p95', 'p99'] },
          xOffset: { field: 'project' },
          y: y('ms'),
          color,
        },
        layer: [bar, label],
      },
      {
        title: 'p95 by scenario',
        data: { values: perScenario },
        width: 560,
        height: 260,
        encoding: {
          x: { field: 'scenario', type: 'nominal', title: null, axis: { labelAngle: -35 } },
          xOffset: { field: 'project' },
          y: y('p95 ms'),
          color,
        },
        layer: [bar, label],
      },
    ],
  } as TopLevelSpec;
}

/** Whole decades holding `values` (at least 1 ms): [10^floor(log10 min), 10^ceil(log10 max)]. */
export function logDomain(values: readonly number[]): [number, number] {
  const positive = values.filter((v) => Number.isFinite(v) && v > 0);
  if (positive.length === 0) return [1, 10];
  const lo = 10 ** Math.floor(Math.log10(Math.max(1, Math.min(...positive))));
  let hi = 10 ** Math.ceil(Math.log10(Math.max(...positive)));
  if (hi <= lo) hi = lo * 10;
  return [lo, hi];
}

/** The powers of ten from `lo` to `hi`: the log axis's ticks. */
export function decades([lo, hi]: [number, number]): number[] {
  const out: number[] = [];
  for (let v = lo; v <= hi; v *= 10) out.push(v);
  return out;
}

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return withHoverTitles(await view.toSVG());
  } finally {
    view.finalize();
  }
}

/**
 * Vega's static SVG says each bar's value in its aria-label only, which a browser does not show:
 * each bar gets it as a <title> too, the tooltip a browser shows on hover when the SVG is opened.
 */
export function withHoverTitles(svg: string): string {
  return svg.replace(
    /<path aria-label="([^"]*)"( role="graphics-symbol" aria-roledescription="bar"[^>]*?)\/>/g,
    (_m, label: string, rest: string) => `<path aria-label="${label}"${rest}><title>${label}</title></path>`,
  );
}
