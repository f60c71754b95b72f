// The pipeline's invariants, checked against the provider (issue 4):
//   1. every accepted request is in exactly one terminal state;
//   2. the provider holds exactly one live booking for each CONFIRMED appointment,
//   3. and none for FAILED, REJECTED or COMPENSATED ones;
//   4. no appointment has two terminal events (CONFIRMED then COMPENSATED is the saga, allowed);
//   5. the audit trail has every transition;
//   6. (with a full ledger) no live booking belongs to an appointment the pipeline does not know;
//   7. (with acknowledgements) every acknowledged acceptance exists on the topics (issue 20).
// `checkInvariants` is pure; `gatherInvariantInput` reads Redis, the provider and the audit trail.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import {
  type AcceptanceEvidence,
  acknowledgedAcceptancesExist,
  gatherAcceptanceEvidence,
  TERMINAL_SEQUENCES,
} from './acceptances.js';
import type { AvroSerde } from './kafka/serde.js';
import { type AppointmentView, projectedIds, readProjection } from './projection.js';
import { type ProviderBooking, ProviderClient } from './provider/client.js';
import { isState, isTerminal } from './state-machine.js';

export interface InvariantInput {
  appointments: AppointmentView[];
  bookings: Map<string, ProviderBooking[]>;
  /** Every booking the provider holds, when it can tell (a mock's ledger); enables rule 6. */
  ledger?: ProviderBooking[];
  /** TRANSITION lines per appointment in the audit trail; enables rule 5. */
  auditTransitions?: Map<string, number>;
  /** What clients (or intake's claims) were told was accepted, and what the topics hold; rule 7. */
  acceptances?: { acknowledged: string[]; evidence: AcceptanceEvidence };
}

export interface InvariantResult {
  name: string;
  passed: boolean;
  appointmentIds: string[];
}

export interface InvariantReport {
  checkedAt: string;
  appointments: number;
  byState: Record<string, number>;
  terminal: { CONFIRMED: number; REJECTED: number; COMPENSATED: number; FAILED: number };
  mismatches: {
    confirmedWithoutBooking: string[];
    bookingWithoutConfirmed: string[];
    multipleBookings: string[];
  };
  invariants: InvariantResult[];
  passed: boolean;
}

const live = (b: ProviderBooking) => b.status === 'CONFIRMED' || b.status === 'PENDING';

export function checkInvariants(input: InvariantInput): InvariantReport {
  const byState: Record<string, number> = {};
  const nonTerminal: string[] = [];
  const confirmedWithoutBooking: string[] = [];
  const multipleBookings: string[] = [];
  const bookingWithoutConfirmed: string[] = [];
  const twoTerminalEvents: string[] = [];
  const missingAudit: string[] = [];
  const known = new Set<string>();
  for (const a of input.appointments) {
    known.add(a.appointmentId);
    byState[a.state] = (byState[a.state] ?? 0) + 1;
    if (!isState(a.state) || !isTerminal(a.state)) nonTerminal.push(a.appointmentId);
    const liveBookings = (input.bookings.get(a.appointmentId) ?? []).filter(live);
    if (a.state === 'CONFIRMED' && liveBookings.length === 0) confirmedWithoutBooking.push(a.appointmentId);
    if (liveBookings.length > 1) multipleBookings.push(a.appointmentId);
    if (a.state !== 'CONFIRMED' && isState(a.state) && isTerminal(a.state) && liveBookings.length > 0) {
      bookingWithoutConfirmed.push(a.appointmentId);
    }
    const terminalEvents = a.history.filter((h) => isState(h.to) && isTerminal(h.to)).map((h) => h.to);
    if (terminalEvents.length > 0 && !TERMINAL_SEQUENCES.has(terminalEvents.join('>')))
      twoTerminalEvents.push(a.appointmentId);
    if (input.auditTransitions && (input.auditTransitions.get(a.appointmentId) ?? 0) < a.history.length) {
      missingAudit.push(a.appointmentId);
    }
  }
  const unknown = [
    ...new Set(
      (input.ledger ?? []).filter((b) => live(b) && !known.has(b.externalRef)).map((b) => b.externalRef),
    ),
  ];
  bookingWithoutConfirmed.push(...unknown);

  const rule = (name: string, ids: string[]): InvariantResult => ({
    name,
    passed: ids.length === 0,
    appointmentIds: ids,
  });
  const invariants = [
    rule('every accepted request is in exactly one terminal state', nonTerminal),
    rule('exactly one live booking for each CONFIRMED appointment', [
      ...confirmedWithoutBooking,
      ...multipleBookings.filter((id) => byStateOf(input, id) === 'CONFIRMED'),
    ]),
    rule(
      'no live booking for FAILED, REJECTED or COMPENSATED appointments',
      bookingWithoutConfirmed.filter((id) => known.has(id)),
    ),
    rule('no appointment has two terminal events', twoTerminalEvents),
    ...(input.auditTransitions ? [rule('the audit trail has every transition', missingAudit)] : []),
    ...(input.ledger ? [rule('no live booking for an appointment the pipeline does not know', unknown)] : []),
    ...(input.acceptances
      ? [acknowledgedAcceptancesExist(input.acceptances.acknowledged, input.acceptances.evidence)]
      : []),
  ];
  return {
    checkedAt: new Date().toISOString(),
    appointments: input.appointments.length,
    byState,
    terminal: {
      CONFIRMED: byState.CONFIRMED ?? 0,
      REJECTED: byState.REJECTED ?? 0,
      COMPENSATED: byState.COMPENSATED ?? 0,
      FAILED: byState.FAILED ?? 0,
    },
    mismatches: { confirmedWithoutBooking, bookingWithoutConfirmed, multipleBookings },
    invariants,
    passed: invariants.every((i) => i.passed),
  };
}

function byStateOf(input: InvariantInput, id: string): string | undefined {
  return input.appointments.find((a) => a.appointmentId === id)?.state;
}

/**
 * Distinct lifecycle events per appointment in the audit trail's TRANSITION lines. A line written
 * again for the same event (redelivery, retry) has the same event id and is counted once.
 */
export function auditTransitionCounts(auditLogPath: string): Map<string, number> {
  const events = new Map<string, Set<string>>();
  if (!existsSync(auditLogPath)) return new Map();
  for (const line of readFileSync(auditLogPath, 'utf8').split('\n')) {
    if (!line) continue;
    const l = JSON.parse(line) as {
      kind?: string;
      appointmentId?: string | null;
      payload?: { eventId?: string };
    };
    if (l.kind !== 'TRANSITION' || !l.appointmentId || !l.payload?.eventId) continue;
    const set = events.get(l.appointmentId) ?? new Set<string>();
    set.add(l.payload.eventId);
    events.set(l.appointmentId, set);
  }
  return new Map([...events].map(([id, set]) => [id, set.size]));
}

export interface GatherOptions {
  redis: Redis;
  provider: ProviderClient;
  projectionPrefix?: string;
  auditLogPath?: string;
  /** A provider ledger that lists every booking (the mock's GET /__mock/ledger). */
  ledgerUrl?: string;
  concurrency?: number;
  /** Acknowledged appointment ids to find on these topics (rule 7). */
  acceptances?: {
    acknowledged: string[];
    kafka: Kafka;
    serde: AvroSerde;
    requestedTopic: string;
    lifecycleTopic: string;
  };
}

export async function gatherInvariantInput(o: GatherOptions): Promise<InvariantInput> {
  const ids = await projectedIds(o.redis, o.projectionPrefix);
  const appointments: AppointmentView[] = [];
  const bookings = new Map<string, ProviderBooking[]>();
  const queue = [...ids];
  const worker = async () => {
    for (let id = queue.pop(); id !== undefined; id = queue.pop()) {
      const view = await readProjection(o.redis, id, o.projectionPrefix);
      if (!view) continue;
      appointments.push(view);
      bookings.set(id, await o.provider.findByExternalRef(id));
    }
  };
  await Promise.all(Array.from({ length: o.concurrency ?? 8 }, worker));
  const ledger = o.ledgerUrl
    ? (((await (await fetch(o.ledgerUrl)).json()) as { bookings: ProviderBooking[] }).bookings ?? [])
    : undefined;
  const acceptances = o.acceptances
    ? { acknowledged: o.acceptances.acknowledged, evidence: await gatherAcceptanceEvidence(o.acceptances) }
    : undefined;
  return {
    appointments,
    bookings,
    ...(acceptances ? { acceptances } : {}),
    ...(ledger ? { ledger } : {}),
    ...(o.auditLogPath ? { auditTransitions: auditTransitionCounts(o.auditLogPath) } : {}),
  };
}

/** Gathers, checks, and (with `out`) writes the report as JSON: the command and audit's endpoint. */
export async function runInvariantCheck(o: GatherOptions & { out?: string }): Promise<InvariantReport> {
  const report = checkInvariants(await gatherInvariantInput(o));
  if (o.out) {
    mkdirSync(dirname(o.out), { recursive: true });
    writeFileSync(o.out, `${JSON.stringify(report, null, 2)}\n`);
  }
  return report;
}

/** The settings the invariant check reads (audit's and check:invariants' configuration have them). */
export interface InvariantCheckSettings {
  PROVIDER_URL: string;
  PROVIDER_TOKEN: string;
  PROJECTION_PREFIX: string;
  AUDIT_LOG_PATH: string;
  PROVIDER_LEDGER_URL?: string | undefined;
}

/** runInvariantCheck from configuration: audit's POST /invariants and `npm run check:invariants`. */
export function invariantCheckFromSettings(
  redis: Redis,
  c: InvariantCheckSettings,
  out?: string,
  acceptances?: GatherOptions['acceptances'],
): Promise<InvariantReport> {
  return runInvariantCheck({
    redis,
    ...(acceptances ? { acceptances } : {}),
    provider: new ProviderClient({ baseUrl: c.PROVIDER_URL, token: c.PROVIDER_TOKEN, timeoutMs: 5000 }),
    projectionPrefix: c.PROJECTION_PREFIX,
    auditLogPath: c.AUDIT_LOG_PATH,
    ledgerUrl: c.PROVIDER_LEDGER_URL,
    ...(out ? { out } : {}),
  });
}
