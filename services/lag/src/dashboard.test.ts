import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
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

describe('the Prometheus alert rules', () => {
  const rules = parse(
    readFileSync(new URL('../../../dashboards/prometheus/consumer-lag.rules.yml', import.meta.url), 'utf8'),
  ) as { groups: { rules: { alert: string; expr: string; for: string; labels: { severity: string } }[] }[] };
  const all = rules.groups.flatMap((g) => g.rules);

  it('alert on metric names the lag service exports, with a duration and a severity each', () => {
    const exported = new Set<string>(Object.values(LAG_METRICS));
    for (const r of all) {
      const names = r.expr.match(/kafka_consumergroup_\w+/g) ?? [];
      expect(names.length, r.alert).toBeGreaterThan(0);
      expect(
        names.filter((m) => !exported.has(m)),
        r.alert,
      ).toEqual([]);
      expect(r.for, r.alert).toMatch(/^\d+[smh]$/);
      expect(['page', 'ticket']).toContain(r.labels.severity);
    }
  });

  it('cover every non-OK status (1 WARN, 2 REWIND, 3 STALL, 4 STOP) and the 30 s lag gate', () => {
    const statusRules = all.filter((r) => r.expr.includes(LAG_METRICS.status)).map((r) => r.expr);
    for (const code of [1, 2, 3, 4])
      expect(
        statusRules.some((e) => new RegExp(`(==|>=) ${code}$`).test(e)),
        `status ${code}`,
      ).toBe(true);
    expect(all.some((r) => r.expr === `${LAG_METRICS.maxLagSeconds} > 30`)).toBe(true);
  });
});
