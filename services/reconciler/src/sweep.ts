// The periodic sweep: an appointment left in a non-terminal state longer than the bound (a lost
// record, a crashed consumer, a dead partition) is dead-lettered, so the reconciler settles it
// against the provider like any other dead letter.
import {
  type AppointmentState,
  type Emit,
  type Logger,
  lifecycleEmit,
  projectedIds,
  readProjection,
  type TransactionalSender,
} from '@booking/kit';
import type { DeadLetter } from '@booking/schemas';
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

export async function sweepOnce(deps: SweepDeps): Promise<string[]> {
  const now = (deps.now ?? Date.now)();
  const swept: string[] = [];
  const emits: Emit[] = [];
  for (const id of await projectedIds(deps.redis, deps.projectionPrefix)) {
    const view = await readProjection(deps.redis, id, deps.projectionPrefix);
    if (!view || !SWEEPABLE.includes(view.state as AppointmentState)) continue;
    if (view.updatedAt === null || now - view.updatedAt < deps.stuckAfterMs) continue;
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
      'stuck appointments dead-lettered for reconciliation',
    );
  }
  return swept;
}
