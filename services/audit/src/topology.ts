// audit: the trail and the status projection. What it consumes, which handler; it writes no
// records (its outputs are logs/audit.jsonl and the projection in Redis), so it has no DLT: a
// record it cannot read becomes an ALERT line, never dropped.
import { serviceTopology, TOPIC_NAMES } from '@booking/kit';

export interface AuditTopics {
  lifecycle: string;
  dlt: string;
  compensationDlt: string;
  audit: string;
  reconciliation: string;
}

export const DEFAULT_TOPICS: AuditTopics = {
  lifecycle: TOPIC_NAMES.lifecycle,
  dlt: TOPIC_NAMES.dlt,
  compensationDlt: TOPIC_NAMES.compensationDlt,
  audit: TOPIC_NAMES.audit,
  reconciliation: TOPIC_NAMES.reconciliation,
};

export const auditTopology = (t: AuditTopics) =>
  serviceTopology({
    service: 'audit',
    consumers: {
      lifecycle: {
        group: 'lifecycle',
        reads: t.lifecycle,
        schema: 'LifecycleTransition',
        handler: 'lifecycle',
        doc: 'check each event against the state machine, apply it to the status projection, write a TRANSITION line (ILLEGAL_TRANSITION + alert if it is not legal)',
        writes: [],
        deadLetters: null,
        unreadable: 'an ALERT line in the trail',
      },
      dlt: {
        group: 'dlt',
        reads: t.dlt,
        schema: 'DeadLetter',
        handler: 'deadLetter',
        doc: 'a DEAD_LETTER line, raw bytes masked',
        writes: [],
        deadLetters: null,
        unreadable: 'an ALERT line in the trail',
      },
      compensationDlt: {
        group: 'compensation-dlt',
        reads: t.compensationDlt,
        schema: 'DeadLetter',
        handler: 'deadLetter',
        doc: 'a DEAD_LETTER line for a compensation that could not complete (the appointment stays COMPENSATING)',
        writes: [],
        deadLetters: null,
        unreadable: 'an ALERT line in the trail',
      },
      records: {
        group: 'records',
        reads: t.audit,
        schema: 'AuditRecord',
        handler: 'auditRecord',
        doc: 'QUARANTINE and ALERT lines from other services (+ alert)',
        writes: [],
        deadLetters: null,
        unreadable: 'an ALERT line in the trail',
      },
      decisions: {
        group: 'decisions',
        reads: t.reconciliation,
        schema: 'ReconciliationOutcome',
        handler: 'reconcilerDecision',
        doc: "a RECONCILER_DECISION line: the reconciler's decision and the bookings it saw",
        writes: [],
        deadLetters: null,
        unreadable: 'an ALERT line in the trail',
      },
    },
    http: 'POST /invariants (loopback only): the invariant check against the provider, written to INVARIANTS_REPORT_PATH',
  });
