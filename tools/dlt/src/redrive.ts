// Sends chosen dead letters back into the FIRST retry topic (never the main topic), each after its
// checks (decide.ts). A booking's (the dead-letter topic) goes with the lifecycle move
// DEAD_LETTERED -> RETRY_SCHEDULED in the same Kafka transaction, so the state machine sees the
// redrive and dispatch picks it up as one more attempt. A compensation command's (the compensation
// dead-letter topic) goes back alone: its appointment is still COMPENSATING, and the compensation
// service moves it to COMPENSATED once the provider's DELETE answers.
import { randomUUID } from 'node:crypto';
import {
  type AvroSerde,
  HEADERS,
  lifecycleEvent,
  type ProviderClient,
  readProjection,
  releaseClaim,
  retryTopicName,
  retryTopicNames,
  type TopicKey,
} from '@booking/kit';
import type { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import { type Decision, decideCompensationRedrive, decideRedrive } from './decide.js';
import type { DeadLetterEntry } from './read.js';

export interface RedriveDeps {
  kafka: Kafka;
  serde: AvroSerde;
  redis: Redis;
  provider: ProviderClient;
  topics: Record<TopicKey, string>;
  retryDelaysMs: readonly number[];
  projectionPrefix: string;
  now?: () => number;
}

export interface RedriveResult {
  partition: number;
  offset: string;
  appointmentId: string | null;
  decision: Decision;
  /** Where it was sent (absent on a dry run or a refusal). */
  sentTo?: string;
}

/** Which dead letters: bookings (the dead-letter topic) or compensation commands (its own). */
export type DeadLetterKind = 'booking' | 'compensation';

export async function redrive(
  deps: RedriveDeps,
  entries: DeadLetterEntry[],
  { dryRun, kind = 'booking' }: { dryRun: boolean; kind?: DeadLetterKind },
): Promise<RedriveResult[]> {
  const now = deps.now ?? Date.now;
  const source = kind === 'booking' ? deps.topics.requested : deps.topics.compensation;
  const sourceTopics = [source, ...retryTopicNames(source, deps.retryDelaysMs)];
  const target = retryTopicName(source, deps.retryDelaysMs[0]!);
  const results: RedriveResult[] = [];
  const producer = dryRun
    ? undefined
    : deps.kafka.producer({
        transactionalId: `booking-dlt-redrive.${randomUUID()}`,
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
      });
  await producer?.connect();
  const handled = new Set<string>();
  const locks: { key: string; token: string }[] = [];
  const refuse = (e: DeadLetterEntry, why: string) =>
    results.push({
      partition: e.partition,
      offset: e.offset,
      appointmentId: e.value.appointmentId,
      decision: { redrive: false, why },
    });
  try {
    for (const e of entries) {
      const l = e.value;
      const id = l.appointmentId;
      // One redrive per appointment: twice in one run (the projection has not moved yet) or from
      // two runs at once would put two attempts of it in flight (issue 12).
      if (id && handled.has(id)) {
        refuse(e, 'another dead letter of this run redrives the same appointment');
        continue;
      }
      if (id && !dryRun) {
        const lock = {
          key: kind === 'booking' ? `lock:redrive:${id}` : `lock:redrive:compensation:${id}`,
          token: randomUUID(),
        };
        if ((await deps.redis.set(lock.key, lock.token, 'PX', 60_000, 'NX')) !== 'OK') {
          refuse(e, 'another redrive of this appointment is running');
          continue;
        }
        locks.push(lock);
      }
      if (id) handled.add(id);
      const view = id ? await readProjection(deps.redis, id, deps.projectionPrefix) : null;
      let decision: Decision;
      if (kind === 'compensation') {
        decision = decideCompensationRedrive({
          letter: l,
          compensationTopics: sourceTopics,
          state: view?.state ?? null,
        });
      } else {
        const live = id
          ? (await deps.provider.findByExternalRef(id)).filter(
              (b) => b.status === 'CONFIRMED' || b.status === 'PENDING',
            ).length
          : 0;
        decision = decideRedrive({
          letter: l,
          dispatchTopics: sourceTopics,
          state: view?.state ?? null,
          liveBookings: live,
          now: now(),
        });
      }
      const result: RedriveResult = { partition: e.partition, offset: e.offset, appointmentId: id, decision };
      results.push(result);
      if (!decision.redrive || !producer || !id || !l.originalValue) continue;
      const attempt = Math.max(1, l.attempts) + 1;
      const correlationId = l.correlationId ?? id;
      const event = lifecycleEvent({
        appointmentId: id,
        from: 'DEAD_LETTERED',
        to: 'RETRY_SCHEDULED',
        actor: 'dlt-redrive',
        correlationId,
        reason: `REDRIVEN from ${deps.topics.dlt}:${e.partition}:${e.offset}`,
        attempt,
        deadline: l.deadline ?? null,
        at: now(),
      });
      const headers: Record<string, string> = {
        ...l.originalHeaders,
        [HEADERS.attempt]: String(attempt),
        [HEADERS.notBefore]: String(now()),
        [HEADERS.correlationId]: correlationId,
        'x-redriven-from': `${deps.topics.dlt}:${e.partition}:${e.offset}`,
      };
      const resend = { topic: target, messages: [{ key: id, value: Buffer.from(l.originalValue), headers }] };
      const tx = await producer.transaction();
      try {
        await tx.sendBatch({
          acks: -1,
          topicMessages:
            kind === 'compensation'
              ? [resend]
              : [
                  resend,
                  {
                    topic: deps.topics.lifecycle,
                    messages: [
                      {
                        key: id,
                        value: await deps.serde.encode(deps.topics.lifecycle, event),
                        headers: { [HEADERS.correlationId]: correlationId },
                      },
                    ],
                  },
                ],
        });
        await tx.commit();
        result.sentTo = target;
      } catch (err) {
        await tx.abort().catch(() => undefined);
        throw err;
      }
    }
  } finally {
    await producer?.disconnect();
    for (const { key, token } of locks) await releaseClaim(deps.redis, key, token).catch(() => false);
  }
  return results;
}
