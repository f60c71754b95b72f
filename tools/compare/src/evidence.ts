// The evidence behind each canonical case the legacy gets wrong (issue 19): for the request ids the
// client sent, the legacy's stored rows, its log lines (masked), the provider's answers to its calls,
// and, next to them, the pipeline's audit trail for the same case. compare_report.md prints it so
// a root cause can be read off the run instead of asserted.
import { MASK } from '@booking/kit';
import type { CaseRun } from './client.js';
import type { CaseResult, LegacyRecord, PipelineView } from './outcome.js';
import type { ProviderIndex } from './provider.js';

/** Field names that may hold personal data: their values never reach the report. */
const PERSONAL = /name|phone|email|birth|dob|patient|address/i;

export interface LegacyEvidence {
  /** Each client attempt: the x-request-id it carried and what it got back. */
  requests: { requestId: string; send: number; answer: number | string; error?: string }[];
  /** The legacy's stored rows for the case's calendars (ids and statuses; no patient, no slot). */
  rows: {
    id: string;
    status: string;
    providerStatus?: number;
    bookingId?: string;
    error?: string;
    at: string;
  }[];
  /** The legacy's own log lines for those rows, and its crashes while the case ran, masked. */
  log: Record<string, unknown>[];
  /** Every call the provider answered for the case's calendars. */
  provider: { at: string; call: string; status: number | string }[];
}

export interface PipelineEvidence {
  appointmentIds: string[];
  trail: { appointmentId: string; at: string; from: string | null; to: string; reason?: string | null }[];
}

export function mask(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (PERSONAL.test(k)) out[k] = MASK;
    else if (v && typeof v === 'object' && !Array.isArray(v)) out[k] = mask(v as Record<string, unknown>);
    else out[k] = v;
  }
  return out;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function legacyEvidence(
  run: CaseRun,
  records: LegacyRecord[],
  lines: { at: number; fields: Record<string, unknown> }[],
  provider: ProviderIndex,
): LegacyEvidence {
  const rows = records
    .filter((r) => run.calendarIds.includes(r.calendarId))
    .sort((a, b) => a.updatedAt - b.updatedAt);
  const ids = new Set(rows.map((r) => r.id));
  const from = run.startedAt;
  const to = Math.max(run.finishedAt, ...run.sends.flatMap((s) => s.attempts.map((a) => a.endedAt)));
  const log = lines
    .filter(
      (l) =>
        (typeof l.fields.bookingRef === 'string' && ids.has(l.fields.bookingRef)) ||
        (l.fields.service === 'legacy-supervisor' && l.at >= from && l.at <= to + 1000),
    )
    .slice(0, 50)
    .map((l) => mask(l.fields));
  return {
    requests: run.sends.flatMap((s) =>
      s.attempts.map((a) => ({
        requestId: a.requestId,
        send: s.index,
        answer: a.outcome,
        ...(a.error ? { error: a.error } : {}),
      })),
    ),
    rows: rows.map((r) => ({
      id: r.id,
      status: r.status,
      ...(r.providerStatus !== undefined ? { providerStatus: r.providerStatus } : {}),
      ...(r.bookingId ? { bookingId: r.bookingId } : {}),
      ...(r.error ? { error: r.error } : {}),
      at: iso(r.updatedAt),
    })),
    log,
    provider: run.calendarIds
      .flatMap((c) => provider.calls(c))
      .sort((a, b) => a.at - b.at)
      .slice(0, 50)
      .map((c) => ({ at: iso(c.at), call: `${c.method} ${c.path.split('?')[0]}`, status: c.status })),
  };
}

export function pipelineEvidence(run: CaseRun, views: Map<string, PipelineView>): PipelineEvidence {
  const appointmentIds = [...new Set(run.sends.flatMap((s) => (s.id ? [s.id] : [])))];
  return {
    appointmentIds,
    trail: appointmentIds.flatMap((id) =>
      (views.get(id)?.history ?? []).map((h) => ({
        appointmentId: id,
        at: h.at,
        from: h.from,
        to: h.to,
        ...(h.reason ? { reason: h.reason } : {}),
      })),
    ),
  };
}

/** The legacy's canonical cases that go wrong: not correct, or with a duplicate or ghost booking. */
export function wrongLegacyCases(cases: CaseResult[]): CaseResult[] {
  return cases.filter(
    (c) => !c.template_id && (c.correct === false || c.duplicate_bookings > 0 || c.ghost_bookings > 0),
  );
}

function codeBlock(lines: string[]): string {
  return ['```text', ...lines, '```'].join('\n');
}

/** The "Evidence" section: per wrong legacy case, both sides' records. */
export function renderEvidence(a: CaseResult[], b: CaseResult[]): string {
  const wrong = wrongLegacyCases(a);
  if (!wrong.length)
    return '## Evidence, case by case\n\nNo canonical case goes wrong in the legacy in this run.';
  const byId = new Map(b.map((c) => [c.case_id, c]));
  const parts = wrong.map((c) => {
    const e = c.evidence?.legacy;
    const p = byId.get(c.case_id);
    const pe = p?.evidence?.pipeline;
    const legacy = e
      ? [
          'requests (x-request-id → answer):',
          ...e.requests.map(
            (r) => `  ${r.requestId} send ${r.send} → ${r.answer}${r.error ? ` (${r.error})` : ''}`,
          ),
          'legacy rows:',
          ...(e.rows.length
            ? e.rows.map(
                (r) =>
                  `  ${r.at} ${r.id} ${r.status}${r.providerStatus ? ` provider ${r.providerStatus}` : ''}${r.bookingId ? ` booking ${r.bookingId}` : ''}${r.error ? ` error ${r.error}` : ''}`,
              )
            : ['  (none: the legacy recorded nothing)']),
          'provider answers:',
          ...(e.provider.length
            ? e.provider.map((x) => `  ${x.at} ${x.call} → ${x.status}`)
            : ['  (no call)']),
          'legacy log (masked):',
          ...(e.log.length ? e.log.map((l) => `  ${JSON.stringify(l)}`) : ['  (no line)']),
        ]
      : ['(no evidence recorded)'];
    const pipeline = pe
      ? [
          `appointment${pe.appointmentIds.length === 1 ? '' : 's'} ${pe.appointmentIds.join(', ') || '(none)'}; final state ${p!.final_state}`,
          ...pe.trail.map(
            (t) =>
              `  ${t.at} ${t.from ?? '∅'} → ${t.to}${t.reason ? ` (${t.reason})` : ''}${pe.appointmentIds.length > 1 ? ` [${t.appointmentId}]` : ''}`,
          ),
        ]
      : ['(the pipeline did not run this case)'];
    return `### ${c.case_id} (${c.scenario}): legacy ${c.final_state}, expected ${c.expected_state ?? '–'}${c.duplicate_bookings ? `, ${c.duplicate_bookings} duplicate booking(s)` : ''}${c.ghost_bookings ? `, ${c.ghost_bookings} ghost booking(s)` : ''}

${c.mismatches.length ? `Why: ${c.mismatches.join('; ')}.\n\n` : ''}Legacy (Project A):

${codeBlock(legacy)}

Pipeline (Project B), audit trail of the same case:

${codeBlock(pipeline)}`;
  });
  return `## Evidence, case by case

For each canonical case the legacy gets wrong: the request ids the client sent and the answers it
got, the legacy's stored rows for the case (ids and statuses; no patient data), the provider's
answers to every call made for it, the legacy's own log lines for those rows and its crashes while
the case ran (personal fields masked), and the pipeline's audit trail for the same case.

${parts.join('\n\n')}`;
}
