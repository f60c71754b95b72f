// One measured phase: bookings published to the inbound topic at a set rate, as an upstream
// producer would (docs/producers.md), each stamped with its scheduled send time; acceptance and the
// final state read from the lifecycle topic by a read_committed consumer. The requests are the
// immediate path alone, or the canonical mix of data/test_data.json (its booking cases, by weight).
import { randomUUID } from 'node:crypto';
import { loadTestData, resolve, seededRandom } from '@booking/compare';
import { type AvroSerde, appointmentIdFor, createProducer } from '@booking/kit';
import type { Kafka } from 'kafkajs';
import { TERMINAL, type Trace } from './measure.js';

/** A kind of request and how often it comes. */
export interface Scenario {
  name: string;
  weight: number;
  /** The inbound record's value for one request (without idempotencyKey and source). */
  body: (uid: string, now: number) => Record<string, unknown>;
}

const SLOT_BODY = (calendar: string) => ({
  patient: { id: 'pt-{{uid}}', name: 'Bench Patient', phone: null, email: null },
  calendarId: `${calendar}-{{uid}}`,
  slot: { start: '{{slotStart}}', end: '{{slotEnd}}', timezone: 'Europe/London' },
  reason: null,
  deadline: '{{now+3600000}}',
});

export const IMMEDIATE: Scenario[] = [
  { name: 'immediate', weight: 1, body: (uid, now) => resolve(SLOT_BODY('cal-immediate'), { uid, now }) },
];

/**
 * The canonical mix's booking cases: each case whose body is a valid booking, by its weight. Left
 * out: repeats of one key (duplicate-*, same-key-different-body: they end in the first request's
 * state) and invalid requests (dead-lettered at intake, no lifecycle).
 */
export async function canonicalMix(file: string): Promise<Scenario[]> {
  const data = await loadTestData(file);
  const left = /^(duplicate|same-key|invalid)/;
  return data.cases
    .filter((c) => !left.test(c.scenario) && c.request.body && (data.load.mix?.[c.id] ?? 1) > 0)
    .map((c) => {
      const body = c.request.body as Record<string, unknown>;
      return {
        name: c.scenario,
        weight: data.load.mix?.[c.id] ?? 1,
        body: (uid: string, now: number) => {
          const b = resolve(body, { uid, now }) as Record<string, unknown>;
          return { reason: null, deadline: now + 3_600_000, ...b };
        },
      };
    });
}

export interface PhaseTraces {
  traces: Map<string, Trace & { scenario: string }>;
  produced: number;
  produceMs: number;
}

/** Publishes `perS × seconds` requests on schedule and follows them to a final state (bounded). */
export async function runLoad(o: {
  kafka: Kafka;
  serde: AvroSerde;
  topics: { inbound: string; lifecycle: string };
  source: string;
  perS: number;
  seconds: number;
  scenarios: Scenario[];
  drainMs: number;
  until: (what: string, done: () => boolean, boundMs: number) => Promise<boolean>;
  say: (s: string) => void;
}): Promise<PhaseTraces> {
  const { kafka, serde, topics, source, perS, seconds } = o;
  const traces = new Map<string, Trace & { scenario: string }>();
  const groupId = `bench.lifecycle.${source}`;
  // The group starts where the lifecycle topic ends now: its offsets are set before it first joins.
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topics.lifecycle);
    await admin.setOffsets({
      groupId,
      topic: topics.lifecycle,
      partitions: ends.map((e) => ({ partition: e.partition, offset: e.high })),
    });
  } finally {
    await admin.disconnect();
  }
  const consumer = kafka.consumer({ groupId });
  const producer = createProducer(kafka);
  await Promise.all([consumer.connect(), producer.connect()]);
  let settled = 0;
  try {
    await consumer.subscribe({ topic: topics.lifecycle });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          const key = m.key?.toString();
          const t = key ? traces.get(key) : undefined;
          if (!t) continue; // not this run's
          const { value } = await serde.decode<{ to: string; at: number }>(m.value);
          if (value.to === 'REQUESTED') t.acceptedAt = Number(value.at);
          else if (value.to === 'DISPATCHING') t.dispatchingAt ??= Number(value.at);
          else if (TERMINAL.has(value.to) && !t.terminal) {
            t.terminal = { state: value.to, at: Number(value.at), writtenAt: Number(m.timestamp) };
            t.seenAt = Date.now();
            settled++;
          }
        }
      },
    });
    const total = perS * seconds;
    const pick = picker(o.scenarios);
    let produced = 0;
    const t0 = Date.now();
    const scheduled = (i: number) => t0 + Math.floor((i * 1000) / perS);
    while (produced < total) {
      // Request i is due at `scheduled(i)`: i + 1 of them are due once that time is reached (the
      // count was one interval late until 2026-12-02, 50 ms at 20/s, charged to the pipeline).
      const due = Math.min(total, Math.floor(((Date.now() - t0) * perS) / 1000) + 1);
      if (due > produced) {
        const messages = [];
        for (let i = produced; i < due; i++) {
          const idempotencyKey = `${source}-${i}`;
          const scenario = pick();
          const now = Date.now();
          traces.set(appointmentIdFor(`kafka:${source}`, idempotencyKey), {
            scenario: scenario.name,
            sentAt: now,
            scheduledAt: scheduled(i),
          });
          messages.push({
            key: `${source}:${idempotencyKey}`,
            value: await serde.encode(topics.inbound, {
              ...scenario.body(`${source}-${i}`, now),
              idempotencyKey,
              source,
            }),
            headers: { 'x-correlation-id': randomUUID() },
          });
        }
        await producer.send({ topic: topics.inbound, acks: -1, messages });
        produced = due;
      } else await new Promise((r) => setTimeout(r, Math.max(1, scheduled(produced) - Date.now())));
    }
    const produceMs = Date.now() - t0;
    o.say(`  produced ${produced} in ${(produceMs / 1000).toFixed(1)} s; waiting for final states`);
    await o.until('settling', () => settled >= produced, o.drainMs);
    return { traces, produced, produceMs };
  } finally {
    await Promise.allSettled([consumer.disconnect(), producer.disconnect()]);
  }
}

/** Draws scenarios by weight, the same sequence every run (seeded). */
function picker(scenarios: Scenario[]): () => Scenario {
  const total = scenarios.reduce((s, x) => s + x.weight, 0);
  const random = seededRandom(13);
  return () => {
    let r = random() * total;
    for (const s of scenarios) {
      r -= s.weight;
      if (r < 0) return s;
    }
    return scenarios[scenarios.length - 1]!;
  };
}
