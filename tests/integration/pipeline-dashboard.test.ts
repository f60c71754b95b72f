// Issue 18: the pipeline's own dashboard and alert rules (dashboards/grafana/pipeline.json,
// dashboards/prometheus/pipeline.rules.yml) query only metrics the running services export: read
// from the /metrics of every service of a real pipeline after a booking, not from a list kept by hand.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoPath } from '../support/compare.js';
import { type Pipeline, requestBody, startPipeline } from '../support/pipeline.js';

let p: Pipeline;
const exported = new Set<string>();

beforeAll(async () => {
  p = await startPipeline('dashboard');
  const res = await p.submit(requestBody(`cal-immediate-${randomUUID().slice(0, 8)}`), randomUUID());
  const { appointmentId } = (await res.json()) as { appointmentId: string };
  await p.waitForState(appointmentId, 'CONFIRMED');
  for (const url of [p.intakeUrl, p.dispatchUrl, p.auditUrl, p.compensationUrl, p.reconcilerUrl]) {
    const text = await (await fetch(`${url}/metrics`)).text();
    for (const m of text.matchAll(/^# TYPE (\w+) (\w+)$/gm)) {
      exported.add(m[1]!);
      if (m[2] === 'histogram') for (const s of ['_bucket', '_sum', '_count']) exported.add(`${m[1]}${s}`);
    }
  }
}, 120_000);
afterAll(async () => {
  await p?.stop();
});

const names = (expr: string) => [...new Set(expr.match(/\bbooking_\w+/g) ?? [])];

describe("the pipeline's dashboard and alert rules", () => {
  it('every dashboard query names metrics the services export, and covers what an operator watches', () => {
    const d = JSON.parse(readFileSync(repoPath('dashboards/grafana/pipeline.json'), 'utf8')) as {
      panels: { title: string; targets: { expr: string }[] }[];
    };
    const exprs = d.panels.flatMap((panel) =>
      panel.targets.map((t) => ({ panel: panel.title, expr: t.expr })),
    );
    expect(exprs.length).toBeGreaterThan(0);
    for (const { panel, expr } of exprs) {
      expect(names(expr).length, panel).toBeGreaterThan(0);
      expect(
        names(expr).filter((n) => !exported.has(n)),
        panel,
      ).toEqual([]);
    }
    const used = new Set(exprs.flatMap((e) => names(e.expr)));
    for (const m of [
      'booking_intake_accepted_total',
      'booking_transitions_total',
      'booking_end_to_end_seconds_bucket',
      'booking_retries_total',
      'booking_dead_letters_total',
      'booking_circuit_state',
    ])
      expect(used.has(m), m).toBe(true);
  });

  it('every alert rule names metrics the services export, with a duration and a severity', () => {
    const rules = parse(readFileSync(repoPath('dashboards/prometheus/pipeline.rules.yml'), 'utf8')) as {
      groups: { rules: { alert: string; expr: string; for: string; labels: { severity: string } }[] }[];
    };
    const all = rules.groups.flatMap((g) => g.rules);
    expect(all.length).toBeGreaterThan(0);
    for (const r of all) {
      expect(names(r.expr).length, r.alert).toBeGreaterThan(0);
      expect(
        names(r.expr).filter((n) => !exported.has(n)),
        r.alert,
      ).toEqual([]);
      expect(r.for, r.alert).toMatch(/^\d+[smh]$/);
      expect(['page', 'ticket']).toContain(r.labels.severity);
    }
  });
});
