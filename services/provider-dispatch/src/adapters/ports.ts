// The outside world of provider-dispatch's handlers, as small ports: the provider (metered, creates
// through the circuit breaker) and the per-appointment lock and "sent to the provider" marker in
// Redis. The handlers decide; these act. Unit tests pass plain fakes instead.
import { claim, type ProviderBooking, type ProviderClient, releaseClaim } from '@booking/kit';
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

/** How an attempt starts: another consumer holds the appointment, a first send, or one after an earlier. */
export type AttemptStart = 'busy' | 'first' | 'again';

export interface AttemptGuard {
  /** Takes the appointment's lock; then marks "sent to the provider" and says whether it already was. */
  begin(appointmentId: string, holder: string): Promise<AttemptStart>;
  /** Releases the lock (the marker stays: it outlives the retry and DLT window). */
  end(appointmentId: string, holder: string): Promise<void>;
}

export function redisAttemptGuard(
  redis: Redis,
  o: { lockTtlMs: number; markerTtlMs: number; now?: () => number },
): AttemptGuard {
  const lockKey = (id: string) => `lock:dispatch:${id}`;
  const end = async (id: string, holder: string) => {
    await releaseClaim(redis, lockKey(id), holder).catch(() => false);
  };
  return {
    async begin(id, holder) {
      if (!(await claim(redis, lockKey(id), holder, o.lockTtlMs)).won) return 'busy';
      try {
        const marker = await claim(
          redis,
          `idem:dispatch:${id}`,
          String((o.now ?? Date.now)()),
          o.markerTtlMs,
        );
        return marker.won ? 'first' : 'again';
      } catch (err) {
        await end(id, holder);
        throw err;
      }
    },
    end,
  };
}
