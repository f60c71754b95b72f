// The reconciler: settles every dead-lettered appointment against what the provider holds.
// What it consumes, which handler, what it may produce.
import { serviceTopology, TOPIC_NAMES } from '@booking/kit';
import type { ReconcilerTopics } from './handlers/reconcile.js';

export const DEFAULT_TOPICS: ReconcilerTopics = {
  dlt: TOPIC_NAMES.dlt,
  lifecycle: TOPIC_NAMES.lifecycle,
  compensation: TOPIC_NAMES.compensation,
  reconciliation: TOPIC_NAMES.reconciliation,
  audit: TOPIC_NAMES.audit,
};

export const reconcilerTopology = (t: ReconcilerTopics) =>
  serviceTopology({
    service: 'reconciler',
    consumers: {
      dlt: {
        group: 'dlt',
        reads: t.dlt,
        schema: 'DeadLetter',
        handler: 'reconcile',
        doc: 'DEAD_LETTERED -> RECONCILING -> CONFIRMED | COMPENSATING (+ cancel command) | FAILED, by what the provider holds; a dead letter naming no appointment is quarantined',
        writes: [t.lifecycle, t.compensation, t.reconciliation, t.audit],
        // A dead letter that cannot even be read is recorded by audit, which reads the same topic.
        deadLetters: null,
        unreadable: 'skipped here; audit, reading the same topic, writes an ALERT line',
      },
    },
    // Every SWEEP_INTERVAL_MS: appointments stuck past STUCK_AFTER_MS -> DEAD_LETTERED + a dead letter.
    senders: { sweep: [t.lifecycle, t.dlt, t.compensation] },
  });
