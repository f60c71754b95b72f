// One fault round (issue 20's broker restart, generalised for issue 14's matrix): a fault is injected
// while HTTP and Kafka bookings flow, held, recovered, and the round then checks what a client was
// promised against what the pipeline and the provider hold:
//   lost               acknowledged, but without its requested record or its REQUESTED event;
//   unreadable         acknowledged over HTTP, but GET ?idempotencyKey= does not find it;
//   notTerminal        acknowledged, not terminal within `settleBoundMs` of the fault's end;
//   doubleBooked       more than one live provider booking for one appointment;
//   duplicateTerminal  two outcomes committed on the lifecycle topic (a zombie's write not fenced);
//   unhealthy          a service's /healthz not 200, or a consumer group still lagging, once settled.
// And the largest total lag of the pipeline's groups seen while it ran (sampled every second).
import {
  type AvroSerde,
  acknowledgedAcceptancesExist,
  duplicateTerminalEvents,
  gatherAcceptanceEvidence,
  groupLags,
  type Logger,
  laggingGroups,
  TransactionalSender,
} from '@booking/kit';
import type { Admin, Kafka } from 'kafkajs';
import type { Fault } from './faults.js';
import { type Booking, DEFAULT_MIX, planBookings, runHttpClients, runUpstream } from './workload.js';

export interface PipelineTarget {
  intakeUrl: string;
  apiKey: string;
  kafka: Kafka;
  /**
   * The upstream producer's client, with the services' transaction retry (TRANSACTION_RETRY). On
   * kafkajs's default (300 ms, doubling) every CONCURRENT_TRANSACTIONS answer cost 300 ms or more,
   * and after a leader kill on three nodes the upstream took many minutes to send its share.
   */
  producerKafka?: Kafka;
  serde: AvroSerde;
  topics: { inbound: string; requested: string; lifecycle: string };
  /** The provider's full ledger (the mock's /__mock/ledger). */
  ledgerUrl: string;
  /** Service name -> its /healthz URL. */
  health: Record<string, string>;
  /** The consumer groups that must consume again (lag drained) after the fault. */
  groups: (groupId: string) => boolean;
  logger: Logger;
}

export interface RoundOptions {
  http: number;
  kafka: number;
  clients: number;
  /** The fault is injected once this share of the bookings is acknowledged. */
  killAt: number;
  settleBoundMs: number;
  /** calendarId prefixes and their shares (the mock's behaviours). */
  mix?: readonly (readonly [string, number])[];
}

export const DEFAULT_ROUND: RoundOptions = {
  http: 300,
  kafka: 100,
  clients: 16,
  killAt: 1 / 3,
  settleBoundMs: 60_000,
};

export interface RoundResult {
  round: number;
  fault: string;
  bookings: number;
  acknowledged: number;
  notAcknowledged: number;
  /** Never acknowledged because their deadline passed while their client retried (a right 400). */
  expired: number;
  /** The first bookings never acknowledged: channel, key, attempts and the answers they got. */
  unacknowledged: { channel: string; key: string; attempts: number; answers: (number | 'ERR')[] }[];
  httpAttempts: number;
  lost: string[];
  unreadable: string[];
  notTerminal: string[];
  doubleBooked: string[];
  duplicateTerminal: string[];
  unhealthy: string[];
  /**
   * From the fault's end, or from the last acknowledgement when the load went on after it, until
   * every acknowledged booking was terminal (null: not within the bound).
   */
  msToTerminal: number | null;
  /** From injection to the end of recovery. */
  msFault: number;
  /** What failed while injecting or ending the fault (empty when both went as planned). */
  faultErrors: string[];
  /** The largest total lag of the pipeline's consumer groups sampled during the round (null: none read). */
  maxLag: number | null;
  passed: boolean;
}

const TERMINAL = new Set(['CONFIRMED', 'REJECTED', 'COMPENSATED', 'FAILED']);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function json(url: string, apiKey?: string): Promise<{ status: number; body: unknown }> {
  try {
    const res = await fetch(url, {
      headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {},
      signal: AbortSignal.timeout(5000),
    });
    return { status: res.status, body: await res.json().catch(() => null) };
  } catch {
    return { status: 0, body: null };
  }
}

/** Ids not terminal by `deadline`, polled through intake's status API. */
async function waitTerminal(t: PipelineTarget, ids: string[], deadline: number): Promise<string[]> {
  let open = [...ids];
  const isTerminal = async (id: string) => {
    const { status, body } = await json(`${t.intakeUrl}/v1/appointments/${id}`, t.apiKey);
    return status === 200 && TERMINAL.has((body as { state?: string }).state ?? '');
  };
  while (open.length > 0) {
    // At most 32 requests at a time: thousands at once would be a load of the checker's own.
    const states: boolean[] = new Array(open.length).fill(false);
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < open.length; i = next++) states[i] = await isTerminal(open[i]!);
    };
    await Promise.all(Array.from({ length: Math.min(32, open.length) }, worker));
    open = open.filter((_, i) => !states[i]);
    if (open.length === 0 || Date.now() > deadline) break;
    await sleep(250);
  }
  return open;
}

/** Services whose /healthz is not 200, and groups with lag, still so at `deadline`. */
async function waitConsuming(t: PipelineTarget, deadline: number): Promise<string[]> {
  const admin = t.kafka.admin();
  await admin.connect();
  try {
    for (;;) {
      const problems: string[] = [];
      for (const [name, url] of Object.entries(t.health)) {
        const { status, body } = await json(url);
        if (status !== 200) problems.push(`${name} /healthz ${status} ${JSON.stringify(body)}`);
      }
      problems.push(...(await laggingGroups(admin, t.groups)));
      if (problems.length === 0 || Date.now() > deadline) return problems;
      await sleep(500);
    }
  } finally {
    await admin.disconnect();
  }
}

async function liveBookingsPerRef(ledgerUrl: string): Promise<Map<string, number>> {
  const { bookings } = (await (await fetch(ledgerUrl)).json()) as {
    bookings: { externalRef: string; status: string }[];
  };
  const live = new Map<string, number>();
  for (const b of bookings)
    if (b.status === 'CONFIRMED' || b.status === 'PENDING')
      live.set(b.externalRef, (live.get(b.externalRef) ?? 0) + 1);
  return live;
}

/** Samples the total lag of the pipeline's groups every second until stopped; keeps the largest. */
function sampleLag(t: PipelineTarget) {
  let max: number | null = null;
  let admin: Admin | undefined;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      try {
        if (!admin) {
          admin = t.kafka.admin();
          await admin.connect();
        }
        const total = (await groupLags(admin, t.groups)).reduce((n, l) => n + Number(l.lag), 0);
        max = Math.max(max ?? 0, total);
      } catch {
        // the broker (or a coordinator) is away: a fresh client at the next sample
        await admin?.disconnect().catch(() => undefined);
        admin = undefined;
      }
      await sleep(1000);
    }
    await admin?.disconnect().catch(() => undefined);
  })();
  return {
    async stop(): Promise<number | null> {
      stopped = true;
      await loop;
      return max;
    },
  };
}

export async function faultRound(
  t: PipelineTarget,
  fault: Fault,
  round: number,
  o: RoundOptions = DEFAULT_ROUND,
): Promise<RoundResult & { bookingsDetail: Booking[] }> {
  const bookings = planBookings(o.http, o.kafka, o.mix ?? DEFAULT_MIX);
  const lag = sampleLag(t);
  const upstream = new TransactionalSender({
    kafka: t.producerKafka ?? t.kafka,
    transactionalId: `chaos.upstream.${round}.${Date.now()}`,
    serde: t.serde,
    logger: t.logger,
    name: 'chaos-upstream',
    attemptTimeoutMs: 5000,
    exclusiveId: true,
  });
  await upstream.start();
  let acked = 0;
  let trigger: () => void = () => undefined;
  const killTime = new Promise<void>((resolve) => {
    trigger = resolve;
  });
  let lastAckAt = 0;
  const onAcknowledged = () => {
    acked++;
    lastAckAt = Date.now();
    if (acked >= bookings.length * o.killAt) trigger();
  };
  let killedAt = 0;
  let backAt = 0;
  // A fault that could not be injected or ended is the round's failure, not the run's end:
  // recovery is tried three times, and what went wrong is reported with the round.
  const faultErrors: string[] = [];
  const injection = (async () => {
    await killTime;
    await fault.inject().catch((err: Error) => faultErrors.push(`inject: ${err.message.slice(-800)}`));
    killedAt = Date.now();
    t.logger.warn({ round, fault: fault.name, acknowledged: acked }, 'fault injected');
    await sleep(fault.holdMs);
    for (let attempt = 1; attempt <= 3; attempt++) {
      try {
        await fault.recover();
        break;
      } catch (err) {
        faultErrors.push(`recover (attempt ${attempt}): ${(err as Error).message.slice(-800)}`);
        await sleep(5000);
      }
    }
    backAt = Date.now();
    t.logger.warn({ round, fault: fault.name, ms: backAt - killedAt }, 'fault recovered');
  })();
  const giveUpAfterMs = fault.holdMs + 120_000;
  // Each phase of the round's end is logged: a round that stalls says where (a three-node run
  // of stop 27 waited after the fault with nothing logged).
  const phase = (name: string, extra: Record<string, unknown> = {}) =>
    t.logger.warn({ round, fault: fault.name, phase: name, ...extra }, `round: ${name}`);
  await Promise.all([
    runHttpClients(bookings, {
      intakeUrl: t.intakeUrl,
      apiKey: t.apiKey,
      clients: o.clients,
      giveUpAfterMs,
      onAcknowledged,
    }).then(() => phase('http clients done')),
    runUpstream(bookings, {
      sender: upstream,
      inboundTopic: t.topics.inbound,
      concurrency: 4,
      giveUpAfterMs,
      onAcknowledged,
    })
      .catch((err: Error) => faultErrors.push(`upstream producer: ${err.message}`))
      .then(() => phase('upstream producer done')),
  ]);
  phase('workload done', { acknowledged: acked });
  trigger(); // a round whose bookings all went through before the share still gets its fault
  await injection;
  await upstream.stop();
  phase('upstream stopped');

  const acknowledged = bookings.filter((b) => b.acknowledged);
  const ids = acknowledged.map((b) => b.appointmentId);
  const settleFrom = Math.max(backAt, lastAckAt);
  const notTerminal = await waitTerminal(t, ids, settleFrom + o.settleBoundMs);
  const msToTerminal = notTerminal.length === 0 ? Date.now() - settleFrom : null;
  phase('terminal', { notTerminal: notTerminal.length });
  const unhealthy = await waitConsuming(t, Date.now() + 60_000);
  const maxLag = await lag.stop();
  phase('consuming', { unhealthy: unhealthy.length });
  const evidence = await gatherAcceptanceEvidence({
    kafka: t.kafka,
    serde: t.serde,
    requestedTopic: t.topics.requested,
    lifecycleTopic: t.topics.lifecycle,
  });
  phase('evidence read');
  const lost = acknowledgedAcceptancesExist(ids, evidence).appointmentIds;
  const unreadable: string[] = [];
  for (const b of acknowledged.filter((x) => x.channel === 'http')) {
    const { status } = await json(
      `${t.intakeUrl}/v1/appointments?idempotencyKey=${encodeURIComponent(b.key)}`,
      t.apiKey,
    );
    if (status !== 200) unreadable.push(b.appointmentId);
  }
  const live = await liveBookingsPerRef(t.ledgerUrl);
  const doubleBooked = ids.filter((id) => (live.get(id) ?? 0) > 1);
  const duplicateTerminal = duplicateTerminalEvents(ids, evidence);
  const result = {
    round,
    fault: fault.name,
    bookings: bookings.length,
    acknowledged: acknowledged.length,
    notAcknowledged: bookings.length - acknowledged.length,
    expired: bookings.filter((b) => b.expired).length,
    unacknowledged: bookings
      .filter((b) => !b.acknowledged && !b.expired)
      .slice(0, 10)
      .map((b) => ({ channel: b.channel, key: b.key, attempts: b.attempts, answers: b.answers.slice(-10) })),
    httpAttempts: bookings.reduce((n, b) => n + (b.channel === 'http' ? b.attempts : 0), 0),
    lost,
    unreadable,
    notTerminal,
    doubleBooked,
    duplicateTerminal,
    unhealthy,
    msToTerminal,
    msFault: backAt - killedAt,
    faultErrors,
    maxLag,
    passed:
      lost.length +
        unreadable.length +
        notTerminal.length +
        doubleBooked.length +
        duplicateTerminal.length +
        unhealthy.length +
        faultErrors.length ===
        0 && acknowledged.length + bookings.filter((b) => b.expired).length === bookings.length,
  };
  return { ...result, bookingsDetail: bookings };
}
