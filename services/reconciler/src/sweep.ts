// The periodic sweep: an appointment left in a non-terminal state longer than the bound (a lost
// record, a crashed consumer, a dead partition) is dead-lettered, so the reconciler settles it
// against the provider like any other dead letter. An appointment left COMPENSATING that long (its
// command lost, or dead-lettered after every attempt failed) gets its compensation command again,
// at most once per bound (a marker in Redis), so the booking is cancelled once the provider answers
// (issue 14). RECONCILING is never left alone: the reconciler writes it in the same transaction as
// its outcome, so a projection in RECONCILING has that outcome right behind it.
import {
  type AppointmentState,
  type Emit,
  type Logger,
  lifecycleEmit,
  projectedIds,
  readProjection,
  startCompensation,
  type TransactionalSender,
} from '@booking/kit';
import type { CompensationCause, DeadLetter } from '@booking/schemas';
import type { Redis } from 'ioredis';
import type { ReconcilerTopics } from './handlers/reconcile.js';

/** States from which the state machine allows DEAD_LETTERED. */
const SWEEPABLE: AppointmentState[] = ['REQUESTED', 'DISPATCHING', 'PENDING_PROVIDER', 'RETRY_SCHEDULED'];

export interface SweepDeps {
  redis: Redis;
  sender: Pick<TransactionalSender, 'send'>;
  topics: ReconcilerTopics;
  projectionPrefix: string;
  stuckAfterMs: number;
  logger: Logger;
  now?: () => number;
}

const CAUSES: CompensationCause[] = [
  'LATE_CONFIRMATION',
  'DEADLINE_PASSED',
  'DOWNSTREAM_FAILURE',
  'RECONCILIATION',
];

/** Redis key of the once-per-bound marker of a compensation the sweep sent again. */
export const compensationRedriveKey = (prefix: string, id: string) => `${prefix}redrive:compensation:${id}`;

export async function sweepOnce(deps: SweepDeps): Promise<string[]> {
  const now = (deps.now ?? Date.now)();
  const swept: string[] = [];
  const emits: Emit[] = [];
  for (const id of await projectedIds(deps.redis, deps.projectionPrefix)) {
    const view = await readProjection(deps.redis, id, deps.projectionPrefix);
    if (!view || view.updatedAt === null || now - view.updatedAt < deps.stuckAfterMs) continue;
    if (view.state === 'COMPENSATING') {
      if (!view.bookingId) continue; // nothing known to cancel: the audit trail shows it to a person
      const marked = await deps.redis.set(
        compensationRedriveKey(deps.projectionPrefix, id),
        String(now),
        'PX',
        deps.stuckAfterMs,
        'NX',
      );
      if (marked !== 'OK') continue;
      const last = view.history[view.history.length - 1]?.reason ?? '';
      emits.push(
        ...startCompensation({
          lifecycleTopic: deps.topics.lifecycle,
          compensationTopic: deps.topics.compensation,
          appointmentId: id,
          bookingId: view.bookingId,
          calendarId: view.calendarId ?? '',
          from: null,
          cause: CAUSES.find((c) => c === last) ?? 'RECONCILIATION',
          correlationId: view.correlationId,
          actor: 'reconciler',
          attempt: view.attempts,
          now,
        }),
      );
      swept.push(id);
      continue;
    }
    if (!SWEEPABLE.includes(view.state as AppointmentState)) continue;
    const letter: DeadLetter = {
      appointmentId: id,
      reason: 'STUCK',
      errorClass: 'STUCK',
      errorMessage: `in ${view.state} since ${new Date(view.updatedAt).toISOString()}`,
      fieldErrors: [],
      originalTopic: deps.topics.lifecycle,
      originalPartition: -1,
      originalOffset: -1,
      originalKey: null,
      originalValue: null,
      originalHeaders: {},
      attempts: view.attempts,
      firstSeenAt: view.updatedAt,
      deadLetteredAt: now,
      deadline: view.deadline,
      correlationId: view.correlationId,
    };
    emits.push(
      lifecycleEmit(deps.topics.lifecycle, {
        appointmentId: id,
        from: view.state as AppointmentState,
        to: 'DEAD_LETTERED',
        actor: 'reconciler',
        correlationId: view.correlationId,
        attempt: view.attempts,
        reason: 'STUCK',
      }),
      { topic: deps.topics.dlt, key: id, value: letter },
    );
    swept.push(id);
  }
  if (emits.length > 0) {
    await deps.sender.send(emits);
    deps.logger.warn(
      { count: swept.length, appointmentIds: swept.slice(0, 20) },
      'stuck appointments dead-lettered for reconciliation (or, COMPENSATING, their compensation sent again)',
    );
  }
  return swept;
}
