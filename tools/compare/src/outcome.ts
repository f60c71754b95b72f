// One case's result under one project, from what the client saw, what the project recorded and
// what the provider holds. Pure: the runners gather the inputs.

import type { CaseRun } from './client.js';
import type { ResponseOutcome } from './data-file.js';
import type { LegacyEvidence, PipelineEvidence } from './evidence.js';
import { isLive, type ProviderIndex } from './provider.js';

/** What a project says happened to a case (its own records, mapped to the pipeline's states). */
export interface Observation {
  state: string;
  /** When that state was recorded (epoch ms); null if nothing was. */
  at: number | null;
  /** Provider bookings the project believes are the case's confirmed booking. */
  confirmedBookingIds: Set<string>;
  /** Retries the project made on its own (not the client's). */
  retries: number;
  dlt: boolean;
  compensated: boolean;
  crashes?: number;
}

export interface CaseResult {
  case_id: string;
  scenario: string;
  /** For generated load: the canonical case it copies. */
  template_id?: string;
  expected_state: string | null;
  final_state: string;
  correct: boolean | null;
  latency_ms: number | null;
  provider_calls: number;
  provider_creates: number;
  retries: number;
  client_retries: number;
  bookings: number;
  duplicate_bookings: number;
  ghost_bookings: number;
  dlt: boolean;
  compensated: boolean;
  responses: ResponseOutcome[];
  idempotency: { checked: boolean; passed: boolean };
  crashes?: number;
  mismatches: string[];
  /** Project A, canonical cases: did the reconstruction do what expected_prechange.json predicts? */
  reproduced?: boolean | null;
  prechange_mismatches?: string[];
  /** Canonical cases: the records behind the outcome (legacy cases that go wrong; every pipeline case). */
  evidence?: { legacy?: LegacyEvidence; pipeline?: PipelineEvidence };
}

export type Measured = Omit<CaseResult, 'expected_state' | 'correct' | 'mismatches'>;

const INVALID_STATUSES = new Set([400, 413, 415]);

export function allInvalid(run: CaseRun): boolean {
  return run.sends.every((s) => typeof s.outcome === 'number' && INVALID_STATUSES.has(s.outcome));
}

export function measure(
  run: CaseRun,
  seen: Observation,
  provider: ProviderIndex,
  templateId?: string,
): Measured {
  const bookings = run.calendarIds.flatMap((c) => provider.bookings(c));
  const calls = run.calendarIds.flatMap((c) => provider.calls(c));
  const live = bookings.filter(isLive);
  const ids = new Set(run.sends.flatMap((s) => (s.id ? [s.id] : [])));
  const attempts = run.sends.reduce((n, s) => n + s.attempts.length, 0);
  return {
    case_id: run.caseId,
    scenario: run.scenario,
    ...(templateId ? { template_id: templateId } : {}),
    final_state: seen.state,
    latency_ms: seen.at === null ? null : Math.max(0, seen.at - run.startedAt),
    provider_calls: calls.length,
    provider_creates: calls.filter((c) => c.method === 'POST').length,
    retries: seen.retries,
    client_retries: attempts - run.sends.length,
    bookings: live.length,
    duplicate_bookings: Math.max(0, live.length - 1),
    ghost_bookings: live.filter((b) => !seen.confirmedBookingIds.has(b.bookingId)).length,
    dlt: seen.dlt,
    compensated: seen.compensated,
    responses: run.sends.map((s) => s.outcome),
    idempotency: { checked: attempts > 1, passed: live.length <= 1 && ids.size <= 1 },
    ...(seen.crashes !== undefined ? { crashes: seen.crashes } : {}),
  };
}

/** Project B: the projection's view of the appointment the answers named. */
export interface PipelineView {
  state: string;
  attempts: number;
  bookingId?: string | null;
  history: { from: string | null; to: string; at: string; reason?: string | null }[];
}

export function observePipeline(run: CaseRun, views: Map<string, PipelineView>): Observation {
  const none: Observation = {
    state: 'NONE',
    at: null,
    confirmedBookingIds: new Set(),
    retries: 0,
    dlt: false,
    compensated: false,
  };
  if (allInvalid(run)) {
    return { ...none, state: 'INVALID', at: Math.max(...run.sends.map((s) => s.attempts.at(-1)!.endedAt)) };
  }
  const ids = [...new Set(run.sends.flatMap((s) => (s.id ? [s.id] : [])))];
  if (ids.length === 0) return none;
  const view = views.get(ids[0]!);
  if (!view) return { ...none, state: 'UNKNOWN' };
  const last = view.history.at(-1);
  return {
    state: ids.length > 1 ? 'MULTIPLE' : view.state,
    at: last ? Date.parse(last.at) : null,
    confirmedBookingIds: new Set(view.state === 'CONFIRMED' && view.bookingId ? [view.bookingId] : []),
    retries: Math.max(0, view.attempts - 1),
    dlt: view.history.some((h) => h.to === 'DEAD_LETTERED'),
    compensated: view.history.some((h) => h.to === 'COMPENSATED'),
  };
}

/** Project A: a row of the legacy's state file. */
export interface LegacyRecord {
  id: string;
  calendarId: string;
  status: 'CONFIRMED' | 'FAILED';
  providerStatus?: number;
  bookingId?: string;
  error?: string;
  updatedAt: number;
}

/**
 * The legacy knows CONFIRMED and FAILED. A FAILED row whose provider answer was a 4xx other than 429
 * is a refusal (the pipeline's REJECTED); any other FAILED is the pipeline's FAILED.
 */
export function legacyState(r: LegacyRecord): string {
  if (r.status === 'CONFIRMED') return 'CONFIRMED';
  const s = r.providerStatus;
  return s !== undefined && s >= 400 && s < 500 && s !== 429 ? 'REJECTED' : 'FAILED';
}

export function observeLegacy(
  run: CaseRun,
  records: LegacyRecord[],
  crashes: number | undefined,
): Observation {
  const mine = records
    .filter((r) => run.calendarIds.includes(r.calendarId))
    .sort((a, b) => a.updatedAt - b.updatedAt);
  const base = {
    confirmedBookingIds: new Set(
      mine.flatMap((r) => (r.status === 'CONFIRMED' && r.bookingId ? [r.bookingId] : [])),
    ),
    retries: 0,
    dlt: false,
    compensated: false,
    ...(crashes !== undefined ? { crashes } : {}),
  };
  const last = mine.at(-1);
  if (!last) {
    if (allInvalid(run)) {
      return { ...base, state: 'INVALID', at: Math.max(...run.sends.map((s) => s.attempts.at(-1)!.endedAt)) };
    }
    return { ...base, state: 'NONE', at: null };
  }
  return { ...base, state: legacyState(last), at: last.updatedAt };
}
