// reconciler at a glance:
//   appointments.dlt.v1 --[reconciler.dlt]--> reconcile
//       --> lifecycle (DEAD_LETTERED -> RECONCILING -> CONFIRMED | COMPENSATING | FAILED)
//       --> compensation (cancel a booking no longer wanted, or a duplicate) | reconciliation (the decision)
//       --> audit (QUARANTINE: a dead letter that names no appointment)
//   every SWEEP_INTERVAL_MS: appointments stuck past STUCK_AFTER_MS --> lifecycle (-> DEAD_LETTERED) + dlt
import { TOPIC_NAMES } from '@booking/kit';
import type { ReconcilerTopics } from './handlers/reconcile.js';

export const DEFAULT_TOPICS: ReconcilerTopics = {
  dlt: TOPIC_NAMES.dlt,
  lifecycle: TOPIC_NAMES.lifecycle,
  compensation: TOPIC_NAMES.compensation,
  reconciliation: TOPIC_NAMES.reconciliation,
  audit: TOPIC_NAMES.audit,
};

export const groups = (prefix: string) => ({ dlt: `${prefix}.dlt` });
