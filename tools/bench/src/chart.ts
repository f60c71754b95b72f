// Latency against rate, the chart docs/benchmark.md shows: each measured rate's p50/p95/p99 from
// the scheduled send to CONFIRMED (open loop), on a log axis. Vega-Lite rendered to SVG without a
// browser, as the comparison report's chart.
import { renderSvg } from '@booking/compare';
import type { TopLevelSpec } from 'vega-lite';

export interface RatePoint {
  rate: number;
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
}

export function latencyVsRateSpec(points: readonly RatePoint[], capacity: number): TopLevelSpec {
  const values = points.flatMap((p) =>
    (['p50_ms', 'p95_ms', 'p99_ms'] as const).flatMap((k) =>
      p[k] === null ? [] : [{ rate: p.rate, percentile: k.slice(0, 3), ms: Math.max(1, p[k]!) }],
    ),
  );
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: 560,
    height: 300,
    title: `Immediate path: scheduled send -> CONFIRMED seen, by offered rate (capacity ${capacity}/s)`,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'rate', type: 'quantitative', title: 'offered bookings/s' },
      y: {
        field: 'ms',
        type: 'quantitative',
        title: 'latency (ms, log scale)',
        scale: { type: 'log' },
        axis: { tickCount: 6, format: '~s' },
      },
      color: {
        field: 'percentile',
        type: 'nominal',
        scale: { domain: ['p50', 'p95', 'p99'], range: ['#1e8449', '#2471a3', '#c0392b'] },
        legend: { orient: 'top', title: null },
      },
      tooltip: [
        { field: 'rate', type: 'quantitative' },
        { field: 'percentile', type: 'nominal' },
        { field: 'ms', type: 'quantitative' },
      ],
    },
  };
}

export function latencyVsRateSvg(points: readonly RatePoint[], capacity: number): Promise<string> {
  return renderSvg(latencyVsRateSpec(points, capacity));
}
