// The outside world of provider-dispatch's handlers, as small ports: the provider (metered, creates
// through the circuit breaker) and the per-appointment lock and "sent to the provider" marker in
// Redis. The handlers decide; these act. Unit tests pass plain fakes instead.
import {
  type ProviderBooking,
  type ProviderClient,
  type RedisScript,
  releaseClaim,
  runScript,
} from '@booking/kit';
import type { Redis } from 'ioredis';
import type { DispatchMetrics } from '../metrics.js';
import type { GuardedOutcome, ProviderCircuit } from './circuit.js';

export type CreateRequest = Parameters<ProviderClient['create']>[0];

export interface DispatchProvider {
  /** Every booking the provider holds for this appointment; throws when it cannot tell. */
  lookup(appointmentId: string): Promise<ProviderBooking[]>;
  /** One create, through the circuit breaker: what the provider answered, or why there is no answer. */
  create(request: CreateRequest, timeoutMs: number, idempotencyKey: string): Promise<GuardedOutcome>;
  /** One booking by id; null when the provider does not know it; throws when it cannot tell. */
  get(bookingId: string): Promise<ProviderBooking | null>;
}

export function meteredProvider(
  provider: ProviderClient,
  circuit: ProviderCircuit,
  metrics: DispatchMetrics,
): DispatchProvider {
  return {
    async lookup(appointmentId) {
      const timer = metrics.providerLatency.startTimer({ op: 'lookup' });
      try {
        const found = await provider.findByExternalRef(appointmentId);
        metrics.providerCalls.inc({ op: 'lookup', outcome: 'ok' });
        return found;
      } catch (err) {
        metrics.providerCalls.inc({ op: 'lookup', outcome: 'failed' });
        throw err;
      } finally {
        timer();
      }
    },
    async create(request, timeoutMs, idempotencyKey) {
      const timer = metrics.providerLatency.startTimer({ op: 'create' });
      const outcome = await circuit.run(() => provider.create(request, timeoutMs, idempotencyKey));
      if (outcome.kind !== 'circuit-open') timer();
      metrics.providerCalls.inc({ op: 'create', outcome: outcome.kind });
      return outcome;
    },
    async get(bookingId) {
      const booking = await provider.get(bookingId);
      metrics.providerCalls.inc({ op: 'get', outcome: booking?.status ?? 'not-found' });
      return booking;
    },
  };
}

/**
 * How an attempt starts: another consumer holds the appointment, a first send, one after an
 * earlier, or `stale`: a later attempt of this appointment has begun already, so this record's
 * outcome was committed and superseded (it is read again only after a crash or a rebalance).
 */
export type AttemptStart = 'busy' | 'first' | 'again' | 'stale';

export interface AttemptGuard {
  /**
   * Refuses an attempt older than the latest begun (`stale`); else takes the appointment's lock,
   * records the attempt, marks "sent to the provider" and says whether it already was.
   */
  begin(appointmentId: string, holder: string, attempt: number): Promise<AttemptStart>;
  /** Releases the lock (the marker stays: it outlives the retry and DLT window). */
  end(appointmentId: string, holder: string): Promise<void>;
}

/**
 * One round trip: the attempt fence, `SET lock NX`, the attempt, and only then `SET marker NX`.
 * Attempt n + 1 exists only once attempt n's outcome committed (its retry record is in that
 * transaction), so an attempt below the latest begun is always a record read again: running it
 * would emit moves from a state the appointment has left (issue 14's chaos run: a crash re-read
 * attempt 1 after attempt 2 had begun, and it confirmed "from DISPATCHING" an appointment in
 * RETRY_SCHEDULED, which the projection refused, leaving it there).
 */
const BEGIN_ATTEMPT: RedisScript = {
  name: 'bookingBeginDispatchAttempt',
  keys: 3,
  lua: `
local seen = tonumber(redis.call('GET', KEYS[3]) or '0')
if seen > tonumber(ARGV[5]) then return 'stale' end
if not redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then return 'busy' end
redis.call('SET', KEYS[3], ARGV[5], 'PX', ARGV[4])
if redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[4], 'NX') then return 'first' end
return 'again'`,
};

export function redisAttemptGuard(
  redis: Redis,
  o: { lockTtlMs: number; markerTtlMs: number; now?: () => number },
): AttemptGuard {
  const lockKey = (id: string) => `lock:dispatch:${id}`;
  return {
    async begin(id, holder, attempt) {
      const at = String((o.now ?? Date.now)());
      return (await runScript(
        redis,
        BEGIN_ATTEMPT,
        [lockKey(id), `idem:dispatch:${id}`, `idem:dispatch-attempt:${id}`],
        [holder, String(o.lockTtlMs), at, String(o.markerTtlMs), String(attempt)],
      )) as AttemptStart;
    },
    async end(id, holder) {
      await releaseClaim(redis, lockKey(id), holder).catch(() => false);
    },
  };
}
