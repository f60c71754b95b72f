// Accepting a request, the same for HTTP and Kafka: claim the idempotency key, then say what to
// emit. Pure of Kafka: it returns the records; the caller produces them.
import { createHash, randomUUID } from 'node:crypto';
import {
  appointmentIdFor,
  type ClaimResult,
  claimKeyFor,
  type Emit,
  HEADERS,
  hashKey,
  lifecycleEmit,
  newTraceparent,
} from '@booking/kit';
import type { AppointmentRequested } from '@booking/schemas';

export interface AcceptTopics {
  requested: string;
  lifecycle: string;
}

export interface AcceptDeps {
  /** Takes an idempotency claim (Redis SET NX with a TTL), or tells who holds it. */
  claim(key: string, value: string, ttlMs: number): Promise<ClaimResult>;
  topics: AcceptTopics;
  /** How long the key is remembered: longer than the whole retry and DLT window. */
  idempotencyTtlMs: number;
  now?: () => number;
}

export interface AcceptInput {
  /** `http` or `kafka:<source>`: scopes the key. */
  scope: string;
  source: string;
  idempotencyKey: string;
  /** The validated request fields (no key). */
  request: Omit<
    AppointmentRequested,
    'appointmentId' | 'source' | 'idempotencyKeyHash' | 'acceptedAt' | 'correlationId'
  >;
  correlationId: string;
  traceparent?: string;
  /** Where a Kafka record came from, `topic/partition/offset`: tells a redelivery from a resubmission. */
  origin?: string;
}

/** What the claim holds while and after a request is accepted. */
interface ClaimValue {
  s: 'accepting' | 'accepted';
  h: string;
  a: string;
  o?: string;
  /**
   * Unique per attempt while "accepting": two attempts with the same key and body must not hold
   * byte-identical claims, or one's compare-and-delete releases the other's (issue 20).
   */
  n?: string;
}

export type AcceptResult =
  | { kind: 'accepted'; appointmentId: string; emits: Emit[]; claimKey: string; claimValue: string }
  | { kind: 'replay'; appointmentId: string }
  | { kind: 'in-progress'; appointmentId: string }
  | { kind: 'conflict'; appointmentId: string };

export function bodyHash(value: unknown): string {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canonical)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v as object)
              .sort()
              .map((k) => [k, canonical((v as Record<string, unknown>)[k] ?? null)]),
          )
        : (v ?? null);
  return createHash('sha256')
    .update(JSON.stringify(canonical(value)))
    .digest('hex');
}

export function claimValue(
  kind: ClaimValue['s'],
  hash: string,
  appointmentId: string,
  origin?: string,
  nonce?: string,
): string {
  return JSON.stringify({
    s: kind,
    h: hash,
    a: appointmentId,
    ...(origin ? { o: origin } : {}),
    ...(nonce ? { n: nonce } : {}),
  } satisfies ClaimValue);
}

export async function accept(
  deps: AcceptDeps,
  input: AcceptInput,
  claimState: ClaimValue['s'],
  claimTtlMs: number = deps.idempotencyTtlMs,
  /**
   * How long a request whose key another request with the same body is still accepting waits for
   * that one's answer (polling the claim), before it is answered "in progress". HTTP waits as long
   * as the first may wait for its commit, so concurrent copies get the first one's 202; a slower
   * commit (three replicas) used to send them back with 409.
   */
  waitMs = 0,
): Promise<AcceptResult> {
  const now = deps.now ?? Date.now;
  const appointmentId = appointmentIdFor(input.scope, input.idempotencyKey);
  const hash = bodyHash({ ...input.request, source: input.source });
  const key = claimKeyFor('intake', input.scope, input.idempotencyKey);
  const value = claimValue(
    claimState,
    hash,
    appointmentId,
    input.origin,
    claimState === 'accepting' ? randomUUID() : undefined,
  );
  const waitUntil = Date.now() + waitMs;
  for (let claimed = await deps.claim(key, value, claimTtlMs); !claimed.won; ) {
    const holder = JSON.parse(claimed.holder ?? '{}') as Partial<ClaimValue>;
    if (holder.h !== hash) return { kind: 'conflict', appointmentId };
    // The same record again (redelivered before its offset was committed): emit again; every id
    // is deterministic, so downstream drops what it already has.
    if (input.origin !== undefined && holder.o === input.origin) break;
    if (holder.s !== 'accepting') return { kind: 'replay', appointmentId };
    if (Date.now() >= waitUntil) return { kind: 'in-progress', appointmentId };
    await new Promise((r) => setTimeout(r, 25));
    // Accepted meanwhile (replay), or released by a failed first attempt (this one takes it over).
    claimed = await deps.claim(key, value, claimTtlMs);
  }
  const keyHash = hashKey(`${input.scope}\u0000${input.idempotencyKey}`);
  const acceptedAt = now();
  const requested: AppointmentRequested = {
    appointmentId,
    source: input.source,
    idempotencyKeyHash: keyHash,
    ...input.request,
    acceptedAt,
    correlationId: input.correlationId,
  };
  const headers: Record<string, string> = {
    [HEADERS.correlationId]: input.correlationId,
    [HEADERS.traceparent]: input.traceparent ?? newTraceparent(),
    [HEADERS.attempt]: '1',
    [HEADERS.firstSeen]: String(acceptedAt),
    ...(input.request.deadline != null ? { [HEADERS.deadline]: String(input.request.deadline) } : {}),
  };
  const emits: Emit[] = [
    { topic: deps.topics.requested, key: appointmentId, value: requested, headers },
    lifecycleEmit(
      deps.topics.lifecycle,
      {
        appointmentId,
        from: null,
        to: 'REQUESTED',
        actor: 'intake',
        correlationId: input.correlationId,
        reason: `accepted via ${input.scope.startsWith('http:') ? 'HTTP' : 'Kafka'}`,
        source: input.source,
        idempotencyKeyHash: keyHash,
        calendarId: input.request.calendarId,
        deadline: input.request.deadline ?? null,
        at: acceptedAt,
      },
      { [HEADERS.traceparent]: headers[HEADERS.traceparent]! },
    ),
  ];
  return { kind: 'accepted', appointmentId, emits, claimKey: key, claimValue: value };
}
