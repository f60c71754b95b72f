// "Every acknowledged acceptance exists" (issue 20): an appointment id a client was answered 202
// for, or that intake's claims record as accepted, must have its requested record and its REQUESTED
// lifecycle record on the topics. The other invariants start from the projection, so a booking
// that was acknowledged and then existed nowhere was invisible to them.
import { existsSync, readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import type { InvariantResult } from './invariants.js';
import type { AvroSerde } from './kafka/serde.js';
import { isState, isTerminal } from './state-machine.js';

export interface AcceptanceEvidence {
  /** Appointment ids on the requested topic (its record keys). */
  requested: ReadonlySet<string>;
  /** Appointment ids with a `to: REQUESTED` record on the lifecycle topic. */
  lifecycleRequested: ReadonlySet<string>;
  /**
   * Terminal events per appointment as committed on the lifecycle topic, in order, one per event
   * id (a record written again with the same event id is one event): what a zombie's write that
   * escaped fencing would show as a second terminal event.
   */
  terminalEvents?: ReadonlyMap<string, readonly string[]>;
}

/** The only sequence with two terminal events: the saga's undo of a confirmation. */
export const TERMINAL_SEQUENCES: ReadonlySet<string> = new Set([
  'CONFIRMED',
  'REJECTED',
  'FAILED',
  'COMPENSATED',
  'CONFIRMED>COMPENSATED',
]);

/** Pure: of `ids`, those whose committed terminal events are more than one outcome. */
export function duplicateTerminalEvents(ids: Iterable<string>, evidence: AcceptanceEvidence): string[] {
  const events = evidence.terminalEvents ?? new Map<string, readonly string[]>();
  return [...new Set(ids)].filter((id) => {
    const seq = events.get(id);
    return seq !== undefined && seq.length > 0 && !TERMINAL_SEQUENCES.has(seq.join('>'));
  });
}

export const ACKNOWLEDGED_RULE = 'every acknowledged acceptance exists';

/** Pure: the acknowledged ids lacking their requested record or their REQUESTED event. */
export function acknowledgedAcceptancesExist(
  acknowledged: Iterable<string>,
  evidence: AcceptanceEvidence,
): InvariantResult {
  const missing = [...new Set(acknowledged)].filter(
    (id) => !evidence.requested.has(id) || !evidence.lifecycleRequested.has(id),
  );
  return { name: ACKNOWLEDGED_RULE, passed: missing.length === 0, appointmentIds: missing };
}

/**
 * Reads a topic from the beginning as a read_committed consumer until it has caught up with the
 * end offsets seen at the start (a partition whose last offsets are transaction markers counts as
 * caught up once it has been quiet for `quietMs`). Bounded by `boundMs`.
 */
export async function readTopic(
  kafka: Kafka,
  topic: string,
  onRecord: (key: string | null, value: Buffer | null) => Promise<void> | void,
  { boundMs = 60_000, quietMs = 1500 }: { boundMs?: number; quietMs?: number } = {},
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map(
    (await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect())).map((p) => [
      p.partition,
      BigInt(p.high),
    ]),
  );
  const next = new Map<number, bigint>([...ends.keys()].map((p) => [p, 0n]));
  const behind = () => [...ends].filter(([p, end]) => (next.get(p) ?? 0n) < end);
  if (behind().length === 0) return;
  // A throw-away group that never commits, deleted afterwards: nothing for lag monitoring to show.
  const groupId = `read.${topic}.${process.pid}.${Date.now()}`;
  const consumer = kafka.consumer({
    groupId,
    readUncommitted: false,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: 200,
  });
  let lastRecordAt = Date.now();
  try {
    // A fetch whose records were all aborted (or markers) hands nothing to eachBatch; its end
    // still moves this reader on. Aborted transactions at a partition's tail are common after a
    // broker restart (every sender registering its id again aborts what it left open).
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      if (payload.topic !== topic || payload.lastOffset == null) return;
      const after = BigInt(payload.lastOffset) + 1n;
      if (after > (next.get(payload.partition) ?? 0n)) next.set(payload.partition, after);
    });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          await onRecord(m.key ? m.key.toString() : null, m.value);
          next.set(batch.partition, BigInt(m.offset) + 1n);
        }
        if (batch.messages.length > 0) lastRecordAt = Date.now();
      },
    });
    const deadline = Date.now() + boundMs;
    for (;;) {
      const open = behind();
      // Markers: the last offset or two of a transactional partition hold no record to read.
      const onlyMarkers = open.every(([p, end]) => end - (next.get(p) ?? 0n) <= 2n);
      if (open.length === 0 || (onlyMarkers && Date.now() - lastRecordAt > quietMs)) return;
      if (Date.now() > deadline)
        throw new Error(`reading ${topic}: ${open.length} partitions not caught up within ${boundMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await consumer.disconnect().catch(() => undefined);
    const cleanup = kafka.admin();
    await cleanup
      .connect()
      .then(() => cleanup.deleteGroups([groupId]))
      .catch(() => undefined)
      .finally(() => cleanup.disconnect());
  }
}

/** The requested and lifecycle topics, read to their ends (read_committed). */
export async function gatherAcceptanceEvidence(o: {
  kafka: Kafka;
  serde: AvroSerde;
  requestedTopic: string;
  lifecycleTopic: string;
  boundMs?: number;
}): Promise<AcceptanceEvidence> {
  const requested = new Set<string>();
  const lifecycleRequested = new Set<string>();
  const terminalEvents = new Map<string, string[]>();
  const seenEvents = new Set<string>();
  await readTopic(
    o.kafka,
    o.requestedTopic,
    (key) => {
      if (key) requested.add(key);
    },
    { boundMs: o.boundMs },
  );
  await readTopic(
    o.kafka,
    o.lifecycleTopic,
    async (key, value) => {
      if (!key || !value) return;
      const { value: t } = await o.serde.decode<{ to?: string; eventId?: string }>(value);
      if (t.to === 'REQUESTED') lifecycleRequested.add(key);
      if (t.to && isState(t.to) && isTerminal(t.to)) {
        const eventKey = `${key}\u0000${t.eventId ?? ''}`;
        if (t.eventId && seenEvents.has(eventKey)) return;
        seenEvents.add(eventKey);
        const seq = terminalEvents.get(key) ?? [];
        seq.push(t.to);
        terminalEvents.set(key, seq);
      }
    },
    { boundMs: o.boundMs },
  );
  return { requested, lifecycleRequested, terminalEvents };
}

/**
 * Appointment ids from a file of client-observed acknowledgements: a JSON array of ids, or JSON
 * lines each with an `appointmentId`. A missing file is no acknowledgement.
 */
export function acknowledgedFromFile(path: string): string[] {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, 'utf8').trim();
  if (!text) return [];
  if (text.startsWith('['))
    return (JSON.parse(text) as unknown[]).filter((v): v is string => typeof v === 'string');
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { appointmentId?: string }).appointmentId)
    .filter((v): v is string => typeof v === 'string');
}

/** Appointment ids intake's claims record as accepted (`idem:intake:*` holding `s: accepted`). */
export async function acknowledgedFromClaims(redis: Redis, match = 'idem:intake:*'): Promise<string[]> {
  const ids: string[] = [];
  let cursor = '0';
  do {
    const [nextCursor, keys] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 1000);
    cursor = nextCursor;
    if (keys.length === 0) continue;
    const values = await redis.mget(...keys);
    for (const v of values) {
      if (!v) continue;
      try {
        const c = JSON.parse(v) as { s?: string; a?: string };
        if (c.s === 'accepted' && c.a) ids.push(c.a);
      } catch {
        // not a claim of intake's shape: not evidence either way
      }
    }
  } while (cursor !== '0');
  return ids;
}
