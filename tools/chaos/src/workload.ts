// The load of a fault round: HTTP clients that retry their own submit with the same Idempotency-Key
// on any non-2xx answer or network error (as well-behaved upstream clients do), and an upstream
// system publishing requests on the inbound topic. Every booking remembers whether, and as what
// appointment id, it was acknowledged: the checker's ground truth, as a Jepsen client's history.
import { randomUUID } from 'node:crypto';
import { appointmentIdFor, type Emit, type TransactionalSender } from '@booking/kit';

export interface Booking {
  channel: 'http' | 'kafka';
  key: string;
  calendarId: string;
  /** 202 answered (HTTP), or the record committed (Kafka). */
  acknowledged: boolean;
  /** Kafka: derived from (source, key); HTTP: the id intake answered with (until then a guess). */
  appointmentId: string;
  attempts: number;
  /** HTTP statuses in order ('ERR' for a network error). */
  answers: (number | 'ERR')[];
  /**
   * Refused for good and rightly: its deadline passed while the client kept retrying through the
   * fault (intake answers 400, deadline in the past). Nothing was promised for it.
   */
  expired?: boolean;
}

/** calendarId prefix and its share out of 5: 3 immediate, 1 pending, 1 flaky (issue 20's mix). */
export const DEFAULT_MIX: readonly [string, number][] = [
  ['cal-immediate-', 3],
  ['cal-pending-', 1],
  ['cal-flaky-1-', 1],
];

/**
 * The fault matrix's load: every behaviour of the canonical mix (data/test_data.json) in about its
 * share out of 20, so each fault meets slow answers, pending bookings, retries and refusals.
 */
export const CANONICAL_MIX: readonly [string, number][] = [
  ['cal-immediate-', 11],
  ['cal-pending-', 2],
  ['cal-pending-rejected-', 1],
  ['cal-slot-taken-', 1],
  ['cal-flaky-1-', 1],
  ['cal-delayed-', 1],
  ['cal-rate-limited-', 1],
  ['cal-always-fail-', 1],
  ['cal-ghost-', 1],
];

export const KAFKA_SOURCE = 'chaos-upstream';

export function planBookings(
  http: number,
  kafka: number,
  mix: readonly (readonly [string, number])[] = DEFAULT_MIX,
  tag = randomUUID().slice(0, 8),
) {
  const total = mix.reduce((n, [, s]) => n + s, 0);
  const calendar = (i: number) => {
    let slot = i % total;
    for (const [prefix, share] of mix) {
      if (slot < share) return `${prefix}${tag}-${i}`;
      slot -= share;
    }
    return `cal-immediate-${tag}-${i}`;
  };
  const make = (channel: Booking['channel'], i: number): Booking => {
    const key = `chaos-${tag}-${channel}-${i}`;
    return {
      channel,
      key,
      calendarId: calendar(i),
      acknowledged: false,
      appointmentId: appointmentIdFor(channel === 'http' ? 'http' : `kafka:${KAFKA_SOURCE}`, key),
      attempts: 0,
      answers: [],
    };
  };
  return [
    ...Array.from({ length: http }, (_, i) => make('http', i)),
    ...Array.from({ length: kafka }, (_, i) => make('kafka', i)),
  ];
}

/** A request body 1 to 60 days ahead, on the hour; no real person in it. */
export function requestFields(b: Booking, i: number) {
  const start = Math.floor((Date.now() + (1 + (i % 60)) * 86_400_000) / 3_600_000) * 3_600_000;
  return {
    patient: { id: `chaos-${i}`, name: 'Chaos Tester', phone: null, email: null },
    calendarId: b.calendarId,
    slot: {
      start: new Date(start).toISOString().replace('.000Z', '+00:00'),
      end: new Date(start + 30 * 60_000).toISOString().replace('.000Z', '+00:00'),
      timezone: 'Etc/UTC',
    },
    reason: null,
    // As the canonical case (data/test_data.json, C05): an always-failing calendar's request carries
    // a deadline 8 s ahead, so it ends FAILED at its deadline, not after the whole retry schedule.
    deadline: Date.now() + (b.calendarId.startsWith('cal-always-fail-') ? 8000 : 24 * 3_600_000),
  };
}

export interface HttpClientOptions {
  intakeUrl: string;
  apiKey: string;
  clients: number;
  /** Bound on one booking's whole retry loop. */
  giveUpAfterMs: number;
  onAcknowledged?: () => void;
}

const backoff = (attempt: number) => Math.min(2000, 100 * 2 ** Math.min(attempt, 5));

/** Each client takes the next booking and submits it until a 2xx, or gives up at the bound. */
export async function runHttpClients(bookings: Booking[], o: HttpClientOptions): Promise<void> {
  const queue = bookings.map((b, i) => [b, i] as const).filter(([b]) => b.channel === 'http');
  const client = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const [b, i] = next;
      const fields = requestFields(b, i);
      const body = JSON.stringify(fields);
      const giveUpAt = Date.now() + o.giveUpAfterMs;
      while (!b.acknowledged && Date.now() < giveUpAt) {
        b.attempts++;
        try {
          const res = await fetch(`${o.intakeUrl}/v1/appointments`, {
            method: 'POST',
            headers: {
              authorization: `Bearer ${o.apiKey}`,
              'content-type': 'application/json',
              'idempotency-key': b.key,
            },
            body,
            signal: AbortSignal.timeout(15_000),
          });
          b.answers.push(res.status);
          const answer = (await res.json().catch(() => ({}))) as { appointmentId?: string };
          if (res.status >= 200 && res.status < 300) {
            // The id the client was told is the one that must exist (each API key scopes its own).
            if (!answer.appointmentId)
              throw new Error(`intake answered ${res.status} without an appointment id`);
            b.appointmentId = answer.appointmentId;
            b.acknowledged = true;
            o.onAcknowledged?.();
            break;
          }
          if (res.status === 400 && fields.deadline <= Date.now()) {
            b.expired = true;
            break;
          }
        } catch (err) {
          if ((err as Error).message.startsWith('intake answered')) throw err;
          b.answers.push('ERR');
        }
        await new Promise((r) => setTimeout(r, backoff(b.attempts)));
      }
    }
  };
  await Promise.all(Array.from({ length: o.clients }, client));
}

/**
 * The upstream system: one record at a time per booking, sent until its transaction commits (or
 * the bound passes), a few side by side.
 */
export async function runUpstream(
  bookings: Booking[],
  o: {
    sender: Pick<TransactionalSender, 'send'>;
    inboundTopic: string;
    concurrency: number;
    giveUpAfterMs: number;
    onAcknowledged?: () => void;
  },
): Promise<void> {
  const queue = bookings.map((b, i) => [b, i] as const).filter(([b]) => b.channel === 'kafka');
  // One booking that could not be sent in its whole window means the producer is broken, not the
  // broker away for a while: the rest are not tried for another window each (a fenced sender once
  // kept a round waiting for hours); they stay unacknowledged, and the round says how many.
  let brokenAfter: string | undefined;
  const worker = async () => {
    // Stopped before taking the next booking, so that every one not tried is counted.
    const take = () => (brokenAfter ? undefined : queue.shift());
    for (let next = take(); next; next = take()) {
      const [b, i] = next;
      const fields = requestFields(b, i);
      const record: Emit = {
        topic: o.inboundTopic,
        key: `${KAFKA_SOURCE}:${b.key}`,
        value: { idempotencyKey: b.key, source: KAFKA_SOURCE, ...fields },
        headers: { 'x-correlation-id': randomUUID() },
      };
      const giveUpAt = Date.now() + o.giveUpAfterMs;
      while (!b.acknowledged && !b.expired && Date.now() < giveUpAt) {
        b.attempts++;
        try {
          await o.sender.send([record]);
          // Written only after its deadline (the broker was away): intake rightly dead-letters it.
          if (fields.deadline <= Date.now()) {
            b.expired = true;
            break;
          }
          b.acknowledged = true;
          o.onAcknowledged?.();
        } catch {
          b.answers.push('ERR');
          await new Promise((r) => setTimeout(r, backoff(b.attempts)));
        }
      }
      if (!b.acknowledged && !b.expired) brokenAfter ??= b.appointmentId;
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  if (brokenAfter !== undefined)
    throw new Error(
      `the upstream producer could not send ${brokenAfter} within ${o.giveUpAfterMs} ms; ${queue.length} bookings not tried`,
    );
}
