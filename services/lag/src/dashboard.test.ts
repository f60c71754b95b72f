import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LAG_METRICS } from './metrics.js';

const dashboard = JSON.parse(
  readFileSync(new URL('../../../dashboards/grafana/consumer-lag.json', import.meta.url), 'utf8'),
) as { panels: { targets: { expr: string }[] }[]; templating: { list: { query?: unknown }[] } };

describe('the Grafana dashboard', () => {
  it('reads only metric names the lag service exports, and every per-group one', () => {
    const text = JSON.stringify(dashboard);
    const used = new Set(text.match(/kafka_consumergroup_\w+/g));
    const exported = new Set<string>(Object.values(LAG_METRICS));
    expect([...used].filter((m) => !exported.has(m))).toEqual([]);
    for (const m of [
      LAG_METRICS.lag,
      LAG_METRICS.lagSeconds,
      LAG_METRICS.maxLagSeconds,
      LAG_METRICS.sumLag,
    ]) {
      expect(used.has(m)).toBe(true);
    }
    expect(dashboard.panels.every((p) => p.targets.length > 0)).toBe(true);
  });
});
