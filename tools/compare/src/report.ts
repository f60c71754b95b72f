// compare_report.md: what a reader needs to decide on the cutover, from the two result files.

import type { Delta } from './aggregate.js';
import { renderEvidence } from './evidence.js';
import type { CaseResult } from './outcome.js';
import type { ProjectResults } from './runner.js';

export interface ReportInput {
  runId: string;
  dataFile: string;
  load: number;
  results: ProjectResults[];
  deltas: Record<string, Delta>;
  chartPath: string;
  timing: Record<string, number>;
  /** Extra sections appended at the end (issue 6 adds the shadow run's). */
  sections?: string[];
}

const fmt = (v: number | null | undefined, unit = '') =>
  v === null || v === undefined ? '–' : `${v}${unit}`;
const pct = (v: number | null | undefined) =>
  v === null || v === undefined ? '–' : `${(v * 100).toFixed(1)} %`;
const yes = (v: boolean | null | undefined) => (v === null || v === undefined ? '–' : v ? 'yes' : '**no**');

function table(head: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) =>
    `| ${cells.map((c) => String(c).replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

const canonical = (r: ProjectResults | undefined) => (r ? r.cases.filter((c) => !c.template_id) : []);
const generated = (r: ProjectResults | undefined) => (r ? r.cases.filter((c) => c.template_id) : []);

function headline(input: ReportInput): string {
  const rows: [string, string, (v: number | null) => string][] = [
    ['cases (canonical + load)', 'total', (v) => fmt(v)],
    ['correct', 'correct', (v) => fmt(v)],
    ['success rate', 'success_rate', pct],
    ['p50 send → final state', 'p50_ms', (v) => fmt(v, ' ms')],
    ['p95 send → final state', 'p95_ms', (v) => fmt(v, ' ms')],
    ['p99 send → final state', 'p99_ms', (v) => fmt(v, ' ms')],
    ['cases with no final state recorded', 'no_final_state', (v) => fmt(v)],
    ['duplicate bookings', 'duplicate_bookings', (v) => fmt(v)],
    ['ghost bookings', 'ghost_bookings', (v) => fmt(v)],
    ['idempotency assertions passed', 'idempotency_pass_rate', pct],
    ['client-visible errors (timeouts, resets, 5xx)', 'client_errors', (v) => fmt(v)],
    ['client retries', 'client_retries_total', (v) => fmt(v)],
    ['service retries (retry topics)', 'retries_total', (v) => fmt(v)],
    ['dead-lettered', 'dlt_total', (v) => fmt(v)],
    ['provider calls', 'provider_calls', (v) => fmt(v)],
  ];
  return table(
    ['metric', 'A: legacy', 'B: pipeline', 'B − A'],
    rows.map(([label, key, show]) => {
      const d = input.deltas[key];
      const delta =
        d?.delta === null || !d
          ? '–'
          : show === pct
            ? `${(d.delta * 100).toFixed(1)} points`
            : String(d.delta);
      return [label, show(d?.A ?? null), show(d?.B ?? null), delta];
    }),
  );
}

function caseDiff(a: ProjectResults | undefined, b: ProjectResults | undefined): string {
  const ids = [...new Set([...canonical(a), ...canonical(b)].map((c) => c.case_id))];
  const find = (r: ProjectResults | undefined, id: string) => canonical(r).find((c) => c.case_id === id);
  const cell = (c: CaseResult | undefined) =>
    c ? `${c.final_state}${c.bookings !== 1 ? ` (${c.bookings} booked)` : ''}` : '–';
  return table(
    [
      'case',
      'scenario',
      'expected',
      'A: final',
      'A dup / ghost',
      'A correct',
      'B: final',
      'B dup / ghost',
      'B correct',
      'A as predicted',
    ],
    ids.map((id) => {
      const x = find(a, id);
      const y = find(b, id);
      return [
        id,
        (x ?? y)!.scenario,
        (y ?? x)!.expected_state ?? '–',
        cell(x),
        x ? `${x.duplicate_bookings} / ${x.ghost_bookings}` : '–',
        yes(x?.correct),
        cell(y),
        y ? `${y.duplicate_bookings} / ${y.ghost_bookings}` : '–',
        yes(y?.correct),
        yes(x?.reproduced),
      ];
    }),
  );
}

function why(a: ProjectResults | undefined, b: ProjectResults | undefined): string {
  const lines: string[] = [];
  for (const r of [a, b]) {
    for (const c of canonical(r)) {
      if (c.mismatches.length)
        lines.push(`- **${r!.project} ${c.case_id}** (${c.scenario}): ${c.mismatches.join('; ')}`);
    }
  }
  for (const c of canonical(a)) {
    if (c.reproduced === false)
      lines.push(
        `- A ${c.case_id} did not do what expected_prechange.json predicts: ${c.prechange_mismatches?.join('; ')}`,
      );
  }
  return lines.length ? lines.join('\n') : 'No case differs from its expectation.';
}

function perScenario(a: ProjectResults | undefined, b: ProjectResults | undefined): string {
  const load = [...generated(a), ...generated(b)];
  if (!load.length) return 'No generated load in this run (`--load 0`).';
  const scenarios = [...new Set(load.map((c) => c.scenario))];
  const stats = (r: ProjectResults | undefined, s: string) => {
    const cs = generated(r).filter((c) => c.scenario === s);
    const lat = cs.flatMap((c) => (c.latency_ms === null ? [] : [c.latency_ms])).sort((x, y) => x - y);
    const p95 = lat.length ? lat[Math.min(lat.length - 1, Math.ceil(lat.length * 0.95) - 1)]! : null;
    return {
      n: cs.length,
      correct: cs.filter((c) => c.correct).length,
      p95,
      dup: cs.reduce((n, c) => n + c.duplicate_bookings, 0),
      ghost: cs.reduce((n, c) => n + c.ghost_bookings, 0),
    };
  };
  return table(
    ['scenario', 'requests', 'A correct', 'B correct', 'A p95', 'B p95', 'A dup / ghost', 'B dup / ghost'],
    scenarios.map((s) => {
      const x = stats(a, s);
      const y = stats(b, s);
      return [
        s,
        Math.max(x.n, y.n),
        `${x.correct}/${x.n}`,
        `${y.correct}/${y.n}`,
        fmt(x.p95, ' ms'),
        fmt(y.p95, ' ms'),
        `${x.dup} / ${x.ghost}`,
        `${y.dup} / ${y.ghost}`,
      ];
    }),
  );
}

function rollout(b: ProjectResults | undefined): string {
  const s = b?.summary;
  const dltRate = s?.total ? ((s.dlt_total / s.total) * 100).toFixed(2) : '–';
  return `Each stage starts only when the previous one met every gate for its whole window; any gate
missed sends the traffic back one stage (the rollback path below). This run's pipeline figures are
quoted where a gate has one.

1. **Shadow** (legacy serves; the pipeline gets a mirrored copy, its own consumer groups, the
   provider's sandbox only). Window: at least 7 days and at least 3,000 mirrored requests.
   Gates: zero final-state mismatches after the noise baseline over ≥ 3,000 requests (by the rule
   of three this bounds the mismatch rate below 0.1 % at 95 % confidence); 0 duplicate and 0 ghost
   bookings in the sandbox ledger (this run: ${fmt(s?.duplicate_bookings)} and ${fmt(s?.ghost_bookings)});
   dead-letter rate ≤ 0.5 % (this run: ${dltRate} %, all from scenarios that must dead-letter);
   consumer lag ≤ 30 s at p99.
2. **Canary by clinic cohort** (writes move to the pipeline per cohort of clinics, chosen by a
   stable hash of the clinic id; the rest stays on the legacy): 1 % → 10 % → 50 % of clinics,
   each step at least 48 h and 1,000 bookings. Gates per step, against the legacy's figures for the
   other clinics over the same hours: booking success rate not lower by more than 0.5 points;
   0 duplicate bookings and 0 ghost bookings in the daily reconciliation; every dead letter
   resolved (CONFIRMED, COMPENSATED or FAILED) within 15 minutes; p95 accepted → CONFIRMED on
   the immediate path ≤ 2 s; client-visible 5xx ≤ 0.1 %; \`npm run check:invariants\` green.
3. **Full** (100 % of clinics; the legacy kept warm, read-only, for 14 days). Gates: the canary
   gates hold for 7 consecutive days at full volume; then the legacy is switched off and its
   state file archived.

**Rollback path.** The router's per-cohort switch sends new writes back to the legacy within
minutes; nothing in flight is abandoned: the pipeline keeps consuming until every appointment it
accepted is terminal (its retries, dead letters and compensations finish), and the reconciliation
report lists every appointment it booked so the legacy's store can be back-filled. One clinic is
never written by both at once (that would reintroduce double booking); the client's
Idempotency-Key travels with the request in both directions so a retried submit is recognised
after the switch.`;
}

export function renderReport(input: ReportInput): string {
  const a = input.results.find((r) => r.project === 'A');
  const b = input.results.find((r) => r.project === 'B');
  const bad = b ? b.cases.filter((c) => c.correct === false) : [];
  const verdict = b
    ? bad.length === 0
      ? `**Project B matches its expectations on every case (${b.summary.correct}/${b.summary.total - b.summary.unchecked}).**`
      : `**Project B misses its expectations on ${bad.length} case(s): ${bad
          .slice(0, 10)
          .map((c) => c.case_id)
          .join(', ')}${bad.length > 10 ? ', …' : ''}.**`
    : 'Project B was not run.';
  const canonicalA = canonical(a);
  const dupCases = canonicalA.filter((c) => c.duplicate_bookings > 0).map((c) => c.case_id);
  const ghostCases = canonicalA.filter((c) => c.ghost_bookings > 0).map((c) => c.case_id);
  const bCanon = canonical(b);
  const bDupGhost = bCanon.filter((c) => c.duplicate_bookings + c.ghost_bookings > 0).map((c) => c.case_id);
  const timing = table(
    ['phase', 'seconds'],
    Object.entries(input.timing).map(([k, v]) => [k, v]),
  );
  return `# Project A (legacy) vs Project B (pipeline)

Run \`${input.runId}\`, ${new Date().toISOString()}; cases from \`${input.dataFile}\` plus ${input.load}
generated requests drawn from its scenario mix. Both projects got the same requests from the same
client (timeout, retries and backoff from the data file), each against its own instance of the same
provider mock with the same settings.

${verdict}

How to read this: *correct* means the outcome a booking service owes its users: the expected final
state, the expected number of live bookings at the provider, no duplicate booking, no ghost booking
(a live booking the service does not know it made), and one appointment per Idempotency-Key. The
pipeline is also held to its own contract (answers, provider calls, retries, dead letters). The
legacy's states are mapped to the pipeline's (docs/comparison.md); NONE means it recorded nothing.

## Summary

${headline(input)}

![Latency, client send to final state](${input.chartPath})

## The canonical cases, side by side

${caseDiff(a, b)}

Why a case is not correct:

${why(a, b)}

${renderEvidence(a?.cases ?? [], b?.cases ?? [])}

## Duplicate and ghost bookings

- Legacy, canonical cases with duplicate bookings: ${dupCases.join(', ') || 'none'}; with ghost bookings:
  ${ghostCases.join(', ') || 'none'}. Over all ${a?.summary.total ?? 0} cases: ${fmt(a?.summary.duplicate_bookings)}
  duplicate and ${fmt(a?.summary.ghost_bookings)} ghost bookings.
- Pipeline, canonical cases with either: ${bDupGhost.join(', ') || 'none'}. Over all ${b?.summary.total ?? 0} cases:
  ${fmt(b?.summary.duplicate_bookings)} duplicate and ${fmt(b?.summary.ghost_bookings)} ghost bookings.

## Errors and retries

- Legacy: ${fmt(a?.summary.client_errors)} client-visible errors, ${fmt(a?.summary.client_retries_total)} client retries,
  ${fmt(a?.summary.crashes)} process crashes (each one drops every request in flight).
- Pipeline: ${fmt(b?.summary.client_errors)} client-visible errors, ${fmt(b?.summary.client_retries_total)} client retries,
  ${fmt(b?.summary.retries_total)} retries through the retry topics, ${fmt(b?.summary.dlt_total)} dead-lettered and
  reconciled.

What the pipeline costs: the client's answer is immediate (202) but the final state comes later:
through a poll for PENDING, through the retry schedule (1 s, 4 s, …) for flaky and rate-limited
calendars, and through the dead-letter topic and the reconciler for a provider that keeps failing,
where the legacy failed fast. Those scenarios carry the pipeline's higher percentiles above.
Percentiles count only cases whose final state was recorded: the legacy's lost cases (crashes,
lost answers) have no latency at all, which flatters its figures.

One appointment does not wait behind another: the pipeline's consumers handle records per key in
order and across keys side by side, and a record waiting for its retry or poll time waits in its
own key's place (issue 13; before, one slow provider answer held every partition of its consumer and
the immediate path took seconds under this mix). The immediate path's time here is the path itself:
the HTTP accept and its transaction, then three consumer hops, each a fetch and a transaction.

## Generated load, by scenario

${perScenario(a, b)}

## Rollout guidance

${rollout(b)}

## Files

- \`results/results_pre.json\`, \`results/results_post.json\`: every case, every field; summaries.
- \`results/aggregated_metrics.json\`: both summaries and B − A; \`results/timing.json\`: wall time per phase.
- \`logs/log_pre.txt\`, \`logs/log_post.txt\`: structured (JSON lines), personal data masked.

Wall time of this run:

${timing}
${(input.sections ?? []).map((s) => `\n${s}\n`).join('')}`;
}
