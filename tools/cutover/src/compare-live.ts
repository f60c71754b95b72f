// The live shadow comparison (`npm run shadow-report`): the mirror's journal joined with the shadow
// deployment's outcome for the same request, read from its status API (GET /v1/appointments/:id,
// the projection audit keeps). Nothing comes from a test harness or a provider mock: this is what a
// team cutting over runs against production traffic, day after day.
//
// Each decided request is appended once to an append-only file (`comparisons.jsonl`), so the
// counts accumulate across runs and days until the gate (docs/cutover.md) can be judged. A request
// whose shadow appointment is not terminal yet is left undecided and looked at again next run;
// past the bound it counts as missing.
import { appendFileSync, createReadStream, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import pLimit from 'p-limit';
import { readJournal } from './journal.js';
import { isDropped, type MirroredPair } from './mirror.js';
import { type Classification, classify, type IgnoreRule, type Outcome, upperBound95 } from './shadow.js';

/** What a clinic would see, in words both systems can be mapped to. */
export type LiveOutcome = 'booked' | 'refused' | 'invalid' | 'not-booked' | 'conflict';

/** The legacy's answer as an outcome; undefined when it said nothing conclusive (5xx, dropped). */
export function legacyOutcome(p: MirroredPair): LiveOutcome | undefined {
  const s = p.legacy?.status;
  if (s === 201) return 'booked';
  if (s === 422) return 'refused';
  if (s === 400) return 'invalid';
  if (s === 409) return 'conflict';
  return undefined;
}

const STATE_OUTCOME: Record<string, LiveOutcome> = {
  CONFIRMED: 'booked',
  REJECTED: 'refused',
  FAILED: 'not-booked',
  COMPENSATED: 'not-booked',
};

export interface StatusView {
  state: string;
}
/** Reads the shadow's view of an appointment: undefined when it does not know it (yet). */
export type StatusReader = (appointmentId: string) => Promise<StatusView | undefined>;

export function statusReader(shadowUrl: string, apiKey: string, timeoutMs = 5000): StatusReader {
  return async (id) => {
    const res = await fetch(`${shadowUrl}/v1/appointments/${encodeURIComponent(id)}`, {
      headers: { authorization: `Bearer ${apiKey}` },
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (res.status === 404) return undefined;
    if (!res.ok) throw new Error(`shadow status API answered ${res.status}`);
    const body = (await res.json()) as { state?: unknown };
    return typeof body.state === 'string' ? { state: body.state } : undefined;
  };
}

export interface Decided {
  requestId: string;
  receivedAt: number;
  decidedAt: number;
  legacy: { status?: number; error?: string; outcome?: LiveOutcome };
  shadow: {
    status?: number;
    dropped?: string;
    appointmentId?: string;
    state?: string;
    outcome?: LiveOutcome;
  };
  result: Classification;
}

export const LIVE_RULES: IgnoreRule[] = [
  {
    name: 'legacy-inconclusive',
    description:
      'the legacy answered nothing conclusive (5xx, a dropped connection, the client gave up): nothing to compare against',
    applies: (l) => l.fields.outcome === null,
  },
  {
    name: 'pipeline-stricter-validation',
    description:
      'the pipeline refused at its door what the legacy sent on to the provider (a time in the past, an impossible date, a bad contact): the legacy then booked it or had it refused by the provider; a known legacy defect (docs/design.md §4)',
    applies: (l, c) =>
      (l.fields.outcome === 'booked' || l.fields.outcome === 'refused') && c?.fields.outcome === 'invalid',
  },
  {
    name: 'copy-not-delivered',
    description: 'the mirror dropped the copy (shadow saturated, down, slow, or the body too large)',
    applies: (_l, c) => c?.error?.startsWith('dropped') ?? false,
  },
];

export interface LiveOptions {
  journalDir: string;
  /** The append-only file of decided comparisons. */
  comparisonsPath: string;
  status: StatusReader;
  /** A shadow appointment still not terminal this long after the request counts as missing. */
  boundMs?: number;
  concurrency?: number;
  now?: () => number;
}

/** Decides one pair, or returns undefined while the shadow's outcome may still come. */
export async function decide(
  p: MirroredPair,
  status: StatusReader,
  boundMs: number,
  now: number,
): Promise<Decided | undefined> {
  if (!p.legacy || !p.shadow) return undefined;
  const lo = legacyOutcome(p);
  const legacy: Outcome = {
    requestId: p.requestId,
    scenario: 'live',
    at: 0,
    fields: { outcome: lo ?? null },
  };
  const shadow: Decided['shadow'] = {};
  let candidate: Outcome | undefined;
  if (isDropped(p.shadow)) {
    shadow.dropped = p.shadow.dropped;
    candidate = { ...legacy, fields: {}, error: `dropped (${p.shadow.dropped})` };
  } else {
    shadow.status = p.shadow.status;
    const s = p.shadow.status ?? 0;
    if (s === 202 || s === 200) {
      if (!p.shadow.id)
        candidate = { ...legacy, fields: {}, error: `answered ${s} without an appointment id` };
      else {
        shadow.appointmentId = p.shadow.id;
        const view = await status(p.shadow.id);
        const outcome = view ? STATE_OUTCOME[view.state] : undefined;
        if (view) shadow.state = view.state;
        if (!outcome) {
          if (now - p.receivedAt < boundMs) return undefined;
        } else {
          shadow.outcome = outcome;
          candidate = { ...legacy, fields: { outcome } };
        }
      }
    } else if (s === 400 || s === 422) {
      shadow.outcome = 'invalid';
      candidate = { ...legacy, fields: { outcome: 'invalid' } };
    } else if (s === 409) {
      shadow.outcome = 'conflict';
      candidate = { ...legacy, fields: { outcome: 'conflict' } };
    } else {
      candidate = { ...legacy, fields: {}, error: `shadow answered ${s}` };
    }
  }
  return {
    requestId: p.requestId,
    receivedAt: p.receivedAt,
    decidedAt: now,
    legacy: {
      ...(p.legacy.status !== undefined ? { status: p.legacy.status } : {}),
      ...(p.legacy.error ? { error: p.legacy.error } : {}),
      ...(lo ? { outcome: lo } : {}),
    },
    shadow,
    result: classify(legacy, candidate, { noisy: [], rules: LIVE_RULES, boundMs: Number.POSITIVE_INFINITY }),
  };
}

export async function readDecided(path: string): Promise<Map<string, Decided>> {
  const out = new Map<string, Decided>();
  if (!existsSync(path)) return out;
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of lines) {
    if (!line.trim()) continue;
    try {
      const d = JSON.parse(line) as Decided;
      if (typeof d.requestId === 'string' && d.result) out.set(d.requestId, d);
    } catch {
      // a torn last line (the process died mid-write): that request is decided again
    }
  }
  return out;
}

export interface LiveReport {
  generated_at: string;
  journal: {
    requests: number;
    skipped_lines: number;
    undecided: number;
    /** Status reads that failed this run (those requests stay undecided), and the first error. */
    status_errors: number;
    first_status_error?: string;
  };
  counts: Record<Classification['kind'], number>;
  match_rate: number | null;
  /** legacy outcome → shadow outcome → count, for mismatches. */
  mismatches: Record<string, number>;
  samples: { requestId: string; legacy: Decided['legacy']; shadow: Decided['shadow'] }[];
  ignored_by_rule: Record<string, number>;
  first_request_at: string | null;
  last_request_at: string | null;
  gate: {
    required_compared: number;
    min_days: number;
    days: number;
    compared: number;
    mismatches: number;
    upper_bound_95: number | null;
    max_rate: number;
    passed: boolean;
  };
}

/** Decides what the journal holds and is not decided yet, appends it, and reports over everything decided. */
export async function compareLive(
  o: LiveOptions,
  gate: { requiredCompared?: number; maxRate?: number; minDays?: number; samples?: number } = {},
): Promise<LiveReport> {
  const now = o.now ?? Date.now;
  const boundMs = o.boundMs ?? 3_600_000;
  const decided = await readDecided(o.comparisonsPath);
  const skipped = { lines: 0 };
  const limit = pLimit(o.concurrency ?? 16);
  let requests = 0;
  let undecided = 0;
  const errors = { count: 0, first: undefined as string | undefined };
  const pending: Promise<void>[] = [];
  mkdirSync(dirname(o.comparisonsPath), { recursive: true });
  for await (const p of readJournal(o.journalDir, skipped)) {
    requests++;
    if (decided.has(p.requestId)) continue;
    pending.push(
      limit(async () => {
        const d = await decide(p, o.status, boundMs, now()).catch((err: unknown) => {
          errors.count++;
          errors.first ??= err instanceof Error ? err.message : String(err);
          return undefined;
        });
        if (!d) {
          undecided++;
          return;
        }
        decided.set(d.requestId, d);
        appendFileSync(o.comparisonsPath, `${JSON.stringify(d)}\n`);
      }),
    );
  }
  await Promise.all(pending);
  return liveReport(
    decided.values(),
    {
      requests,
      skipped: skipped.lines,
      undecided,
      statusErrors: errors.count,
      firstStatusError: errors.first,
    },
    gate,
  );
}

export function liveReport(
  all: Iterable<Decided>,
  journal: {
    requests: number;
    skipped: number;
    undecided: number;
    statusErrors?: number;
    firstStatusError?: string | undefined;
  },
  g: { requiredCompared?: number; maxRate?: number; minDays?: number; samples?: number } = {},
): LiveReport {
  const counts = { match: 0, mismatch: 0, missing: 0, 'candidate-error': 0, ignored: 0 };
  const mismatches: Record<string, number> = {};
  const samples: LiveReport['samples'] = [];
  const ignored: Record<string, number> = {};
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const d of all) {
    counts[d.result.kind]++;
    first = Math.min(first, d.receivedAt);
    last = Math.max(last, d.receivedAt);
    if (d.result.kind === 'mismatch') {
      const k = `${d.legacy.outcome ?? '–'} → ${d.shadow.outcome ?? '–'}`;
      mismatches[k] = (mismatches[k] ?? 0) + 1;
      if (samples.length < (g.samples ?? 10))
        samples.push({ requestId: d.requestId, legacy: d.legacy, shadow: d.shadow });
    }
    if (d.result.kind === 'ignored') ignored[d.result.rule] = (ignored[d.result.rule] ?? 0) + 1;
  }
  const compared = counts.match + counts.mismatch;
  const required = g.requiredCompared ?? 3000;
  const maxRate = g.maxRate ?? 0.001;
  const minDays = g.minDays ?? 7;
  const days = Number.isFinite(first) ? (last - first) / 86_400_000 : 0;
  const upper = upperBound95(counts.mismatch, compared);
  return {
    generated_at: new Date().toISOString(),
    journal: {
      requests: journal.requests,
      skipped_lines: journal.skipped,
      undecided: journal.undecided,
      status_errors: journal.statusErrors ?? 0,
      ...(journal.firstStatusError ? { first_status_error: journal.firstStatusError } : {}),
    },
    counts,
    match_rate: compared ? counts.match / compared : null,
    mismatches,
    samples,
    ignored_by_rule: ignored,
    first_request_at: Number.isFinite(first) ? new Date(first).toISOString() : null,
    last_request_at: Number.isFinite(last) ? new Date(last).toISOString() : null,
    gate: {
      required_compared: required,
      min_days: minDays,
      days: Number(days.toFixed(2)),
      compared,
      mismatches: counts.mismatch,
      upper_bound_95: upper,
      max_rate: maxRate,
      passed: compared >= required && days >= minDays && upper !== null && upper <= maxRate,
    },
  };
}

export function renderLiveReport(r: LiveReport): string {
  const pct = (v: number | null, d = 1) => (v === null ? '–' : `${(v * 100).toFixed(d)} %`);
  const g = r.gate;
  const lines = [
    `Shadow comparison over live data (${r.first_request_at ?? '–'} … ${r.last_request_at ?? '–'})`,
    `journal: ${r.journal.requests} mirrored requests, ${r.journal.undecided} not decided yet (shadow not terminal), ${r.journal.skipped_lines} unreadable lines`,
    ...(r.journal.status_errors
      ? [
          `  the shadow's status API failed ${r.journal.status_errors} times (first: ${r.journal.first_status_error})`,
        ]
      : []),
    `decided: ${r.counts.match} match, ${r.counts.mismatch} mismatch, ${r.counts.missing} missing, ${r.counts['candidate-error']} shadow errors, ${r.counts.ignored} ignored; match rate ${pct(r.match_rate)}`,
    ...Object.entries(r.ignored_by_rule).map(([k, n]) => `  ignored (${k}): ${n}`),
    ...Object.entries(r.mismatches).map(([k, n]) => `  mismatch legacy ${k} shadow: ${n}`),
    ...r.samples.map(
      (s) =>
        `  e.g. ${s.requestId}: legacy ${s.legacy.status ?? s.legacy.error} (${s.legacy.outcome ?? '–'}), shadow ${s.shadow.appointmentId ?? ''} ${s.shadow.state ?? s.shadow.status ?? ''} (${s.shadow.outcome ?? '–'})`,
    ),
    `gate: ≥ ${g.required_compared} compared over ≥ ${g.min_days} days, 95 % upper bound of the mismatch rate ≤ ${pct(g.max_rate)}; ` +
      `now ${g.compared} compared over ${g.days} days, ${g.mismatches} mismatches, bound ${pct(g.upper_bound_95, 2)}: ${g.passed ? 'PASSED' : 'NOT PASSED'}`,
  ];
  return `${lines.join('\n')}\n`;
}
