// The shadow comparison: the legacy's outcomes are the incumbent, the shadow deployment's (fed a
// copy of each booking request by the mirror in front of the legacy, runner.runLegacyMirrored) the
// candidate, joined by request id; another legacy run over the same requests is the noise baseline.
// The rules name the known, accepted differences.
import {
  flatten,
  type IgnoreRule,
  isDropped,
  type LiveReport,
  type MirroredPair,
  noiseBaseline,
  type Outcome,
  renderLiveReport,
  type ShadowReport,
  shadowReport,
} from '@booking/cutover';
import type { CaseResult } from './outcome.js';
import type { ProjectResults } from './runner.js';

const TERMINAL = new Set(['CONFIRMED', 'REJECTED', 'FAILED', 'COMPENSATED', 'INVALID']);

/** The fields compared: what a clinic would see (the final state and the live bookings). */
export function outcomeOf(c: CaseResult, startedAt: number, project: 'A' | 'B'): Outcome {
  const error =
    project === 'B' && !TERMINAL.has(c.final_state) ? `no final state (${c.final_state})` : undefined;
  return {
    requestId: c.case_id,
    scenario: c.scenario,
    at: startedAt + (c.latency_ms ?? 0),
    fields: flatten({
      state: c.final_state,
      bookings: c.bookings,
    }),
    ...(error ? { error } : {}),
  };
}

/** Scenarios where the legacy is known to be wrong (docs/design.md §4): not compared, counted. */
export const KNOWN_LEGACY_DEFECTS = new Set([
  'pending',
  'pending-rejected',
  'flaky',
  'rate-limited',
  'delayed',
  'ghost',
  'duplicate-sequential',
  'duplicate-concurrent',
  'same-key-different-body',
  'invalid-fields',
  'invalid-past-slot',
]);

export const SHADOW_RULES: IgnoreRule[] = [
  {
    name: 'legacy-lost-request',
    description: 'the legacy recorded nothing (it crashed or lost the answer): nothing to compare against',
    applies: (l) => l.fields.state === 'NONE',
  },
  {
    name: 'known-legacy-defect',
    description: 'a scenario where the legacy is known to be wrong (docs/design.md, root causes)',
    applies: (l) => KNOWN_LEGACY_DEFECTS.has(l.scenario),
  },
];

export function shadowFromRuns(
  legacy: ProjectResults,
  legacyAgain: ProjectResults,
  candidate: ProjectResults,
  o: { boundMs?: number; requiredCompared?: number } = {},
): { report: ShadowReport; classified: ReturnType<typeof shadowReport>['classified'] } {
  const toOutcomes = (r: ProjectResults) =>
    r.cases.map((c) => outcomeOf(c, Date.parse(r.started_at), r.project as 'A' | 'B'));
  // Noise is measured on what is compared: pairs a rule ignores say nothing about a field's noise.
  const compared = (os: Outcome[]) => os.filter((x) => !SHADOW_RULES.some((r) => r.applies(x, undefined)));
  const noise = noiseBaseline(compared(toOutcomes(legacy)), compared(toOutcomes(legacyAgain)));
  // Times differ between two runs by construction: the bound compares each outcome's latency.
  const aligned = (r: ProjectResults) => r.cases.map((c) => outcomeOf(c, 0, r.project as 'A' | 'B'));
  return shadowReport(aligned(legacy), aligned(candidate), noise, {
    rules: SHADOW_RULES,
    boundMs: o.boundMs ?? 300_000,
    ...(o.requiredCompared !== undefined ? { requiredCompared: o.requiredCompared } : {}),
  });
}

export interface MirrorRun {
  pairs: MirroredPair[];
  shadow: ProjectResults;
}

function mirrorLine(m: MirrorRun): string {
  const copies = { answered: 0, dropped: 0 };
  for (const p of m.pairs) {
    if (!p.shadow) continue;
    if (isDropped(p.shadow)) copies.dropped++;
    else copies.answered++;
  }
  const s = m.shadow.summary;
  return `The mirror in front of the legacy copied ${m.pairs.length} booking requests (every client attempt) to
the shadow deployment: ${copies.answered} answered, ${copies.dropped} dropped. Judged on
outcomes against the pipeline's own expectations (its answers went to the mirror, and the client
retried on the legacy's), the shadow got ${s.correct}/${s.total} cases right, with ${s.duplicate_bookings}
duplicate and ${s.ghost_bookings} ghost bookings at the sandbox (results/shadow_results.json).

`;
}

export function renderShadowSection(r: ShadowReport, mirror?: MirrorRun, live?: LiveReport): string {
  const pct = (v: number | null) => (v === null ? '–' : `${(v * 100).toFixed(1)} %`);
  const rows = Object.entries(r.by_scenario)
    .map(([s, v]) => `| ${s} | ${v.requests} | ${v.match} | ${v.mismatch} | ${pct(v.match_rate)} |`)
    .join('\n');
  const paths = Object.entries(r.mismatches_by_path)
    .map(
      ([p, v]) =>
        `- \`${p}\`: ${v.count}; e.g. ${v.samples.map((s) => `${s.requestId} (legacy ${String(s.legacy)}, shadow ${String(s.candidate)})`).join(', ')}`,
    )
    .join('\n');
  const ignored = Object.entries(r.ignored_by_rule)
    .map(([k, v]) => `- \`${k}\` (${v.count}): ${v.description}`)
    .join('\n');
  const g = r.gate;
  return `## Shadow comparison (legacy outcomes against the pipeline in shadow)

${mirror ? mirrorLine(mirror) : ''}Each legacy outcome joined with the shadow pipeline's outcome for the same request id:
${r.counts.match} match, ${r.counts.mismatch} mismatch, ${r.counts.missing} missing within the bound,
${r.counts['candidate-error']} candidate errors, ${r.counts.ignored} ignored; match rate ${pct(r.match_rate)}.

| scenario | requests | match | mismatch | match rate |
| --- | --- | --- | --- | --- |
${rows}

Mismatches by field:
${paths || '- none'}

Ignored, by rule:
${ignored || '- none'}

Noise baseline (legacy against legacy over the same ${r.noise.requests} requests): fields that differ
by themselves and are never counted: ${r.noise.noisy.map((p) => `\`${p}\``).join(', ') || 'none'}.

**Cutover gate**: at least ${g.required_compared} compared requests and a one-sided 95 % upper bound
of the mismatch rate ≤ ${(g.max_rate * 100).toFixed(1)} % (zero mismatches over 3,000 requests gives
3/3000 = 0.1 %, the rule of three). This run: ${g.compared} compared, ${g.mismatches} mismatches,
bound ${g.upper_bound_95 === null ? '–' : `${(g.upper_bound_95 * 100).toFixed(2)} %`}: **${g.passed ? 'passed' : 'not passed'}**.
${
  live
    ? `
The same comparison as a cutover runs it on live traffic (\`npm run shadow-report\`: the mirror's
journal against the shadow's status API, nothing from this harness; results/shadow_live_report.json):

\`\`\`text
${renderLiveReport(live).trim()}
\`\`\`
`
    : ''
}`;
}
