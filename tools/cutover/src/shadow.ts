// Shadow comparison for the cutover (issue 6): each legacy outcome is joined with the shadow
// pipeline's outcome for the same request id and classified. Fields that differ even between two
// legacy runs of the same requests (the noise baseline) never count as mismatches.
export type Fields = Record<string, string | number | boolean | null>;

export interface Outcome {
  requestId: string;
  scenario: string;
  /** Epoch ms the outcome was recorded. */
  at: number;
  fields: Fields;
  /** The candidate could not produce an outcome (it failed, dead-lettered, …). */
  error?: string;
}

export type Classification =
  | { kind: 'match' }
  | { kind: 'mismatch'; paths: string[] }
  | { kind: 'missing' }
  | { kind: 'candidate-error'; error: string }
  | { kind: 'ignored'; rule: string };

export interface IgnoreRule {
  name: string;
  /** Why the pair is not compared (shown in the report). */
  description: string;
  applies: (legacy: Outcome, candidate: Outcome | undefined) => boolean;
}

/** Flattens nested values into dotted paths: { slot: { start } } -> { "slot.start": … }. */
export function flatten(value: Record<string, unknown>, prefix = ''): Fields {
  const out: Fields = {};
  for (const [k, v] of Object.entries(value)) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === 'object' && !Array.isArray(v))
      Object.assign(out, flatten(v as Record<string, unknown>, path));
    else out[path] = Array.isArray(v) ? JSON.stringify(v) : (v as Fields[string]);
  }
  return out;
}

export function differingPaths(a: Fields, b: Fields): string[] {
  const paths = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...paths].filter((p) => a[p] !== b[p]).sort();
}

export interface Noise {
  /** Requests in the baseline. */
  requests: number;
  /** Path -> share of baseline requests where two legacy runs disagree on it. */
  rates: Record<string, number>;
  /** Paths at or above the threshold: not compared. */
  noisy: string[];
}

/** Legacy against legacy over the same requests: which fields differ by themselves. */
export function noiseBaseline(first: Outcome[], second: Outcome[], threshold = 0.01): Noise {
  const other = new Map(second.map((o) => [o.requestId, o]));
  const counts = new Map<string, number>();
  let requests = 0;
  for (const o of first) {
    const p = other.get(o.requestId);
    if (!p) continue;
    requests++;
    for (const path of differingPaths(o.fields, p.fields)) counts.set(path, (counts.get(path) ?? 0) + 1);
  }
  const rates = Object.fromEntries([...counts].map(([k, n]) => [k, requests ? n / requests : 0]));
  return {
    requests,
    rates,
    noisy: Object.entries(rates)
      .filter(([, r]) => r >= threshold)
      .map(([k]) => k)
      .sort(),
  };
}

export interface ClassifyOptions {
  noisy: readonly string[];
  rules: readonly IgnoreRule[];
  /** A candidate outcome later than this after the legacy's counts as missing. */
  boundMs: number;
}

export function classify(
  legacy: Outcome,
  candidate: Outcome | undefined,
  o: ClassifyOptions,
): Classification {
  const rule = o.rules.find((r) => r.applies(legacy, candidate));
  if (rule) return { kind: 'ignored', rule: rule.name };
  if (!candidate || candidate.at - legacy.at > o.boundMs) return { kind: 'missing' };
  if (candidate.error) return { kind: 'candidate-error', error: candidate.error };
  const noisy = new Set(o.noisy);
  const paths = differingPaths(legacy.fields, candidate.fields).filter((p) => !noisy.has(p));
  return paths.length ? { kind: 'mismatch', paths } : { kind: 'match' };
}

export interface ShadowReport {
  generated_at: string;
  requests: number;
  counts: Record<Classification['kind'], number>;
  /** match / (match + mismatch) */
  match_rate: number | null;
  by_scenario: Record<
    string,
    { requests: number; match: number; mismatch: number; match_rate: number | null }
  >;
  mismatches_by_path: Record<
    string,
    { count: number; samples: { requestId: string; legacy: unknown; candidate: unknown }[] }
  >;
  ignored_by_rule: Record<string, { count: number; description: string }>;
  noise: Noise;
  gate: {
    required_compared: number;
    compared: number;
    mismatches: number;
    /** One-sided 95 % upper bound of the mismatch rate (rule of three when there are none). */
    upper_bound_95: number | null;
    max_rate: number;
    passed: boolean;
  };
}

/** Wilson score upper bound, one-sided 95 % (z = 1.645); the rule of three (3/n) at zero. */
export function upperBound95(mismatches: number, n: number): number | null {
  if (n === 0) return null;
  if (mismatches === 0) return 3 / n;
  const z = 1.645;
  const p = mismatches / n;
  const centre = p + (z * z) / (2 * n);
  const margin = z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n));
  return (centre + margin) / (1 + (z * z) / n);
}

export function shadowReport(
  legacy: Outcome[],
  candidate: Outcome[],
  noise: Noise,
  o: Omit<ClassifyOptions, 'noisy'> & { requiredCompared?: number; maxRate?: number; samples?: number },
): { report: ShadowReport; classified: { requestId: string; scenario: string; result: Classification }[] } {
  const byId = new Map(candidate.map((c) => [c.requestId, c]));
  const classified = legacy.map((l) => ({
    requestId: l.requestId,
    scenario: l.scenario,
    result: classify(l, byId.get(l.requestId), { ...o, noisy: noise.noisy }),
  }));
  const counts = { match: 0, mismatch: 0, missing: 0, 'candidate-error': 0, ignored: 0 };
  const byScenario: ShadowReport['by_scenario'] = {};
  const byPath: ShadowReport['mismatches_by_path'] = {};
  const byRule: ShadowReport['ignored_by_rule'] = {};
  const legacyById = new Map(legacy.map((l) => [l.requestId, l]));
  for (const c of classified) {
    counts[c.result.kind]++;
    byScenario[c.scenario] ??= { requests: 0, match: 0, mismatch: 0, match_rate: null };
    const s = byScenario[c.scenario]!;
    s.requests++;
    if (c.result.kind === 'match') s.match++;
    if (c.result.kind === 'mismatch') {
      s.mismatch++;
      for (const path of c.result.paths) {
        byPath[path] ??= { count: 0, samples: [] };
        const entry = byPath[path]!;
        entry.count++;
        if (entry.samples.length < (o.samples ?? 5)) {
          entry.samples.push({
            requestId: c.requestId,
            legacy: legacyById.get(c.requestId)!.fields[path] ?? null,
            candidate: byId.get(c.requestId)!.fields[path] ?? null,
          });
        }
      }
    }
    if (c.result.kind === 'ignored') {
      const rule = c.result.rule;
      byRule[rule] ??= { count: 0, description: o.rules.find((r) => r.name === rule)!.description };
      const entry = byRule[rule]!;
      entry.count++;
    }
  }
  for (const s of Object.values(byScenario))
    s.match_rate = s.match + s.mismatch ? s.match / (s.match + s.mismatch) : null;
  const compared = counts.match + counts.mismatch;
  const required = o.requiredCompared ?? 3000;
  const maxRate = o.maxRate ?? 0.001;
  const upper = upperBound95(counts.mismatch, compared);
  return {
    classified,
    report: {
      generated_at: new Date().toISOString(),
      requests: legacy.length,
      counts,
      match_rate: compared ? counts.match / compared : null,
      by_scenario: byScenario,
      mismatches_by_path: byPath,
      ignored_by_rule: byRule,
      noise,
      gate: {
        required_compared: required,
        compared,
        mismatches: counts.mismatch,
        upper_bound_95: upper,
        max_rate: maxRate,
        passed: compared >= required && upper !== null && upper <= maxRate,
      },
    },
  };
}
