// audit at a glance:
//   appointments.lifecycle.v1 --[audit.lifecycle]--> check against the state machine, apply to the
//       status projection (Redis <prefix><id>, counts in <prefix>counts), append a TRANSITION line
//   appointments.dlt.v1       --[audit.dlt]-------> DEAD_LETTER line (raw bytes masked)
//   appointments.audit.v1     --[audit.records]---> QUARANTINE / ALERT lines from other services
//   every line --> AUDIT_LOG_PATH (logs/audit.jsonl)
import { TOPIC_NAMES } from '@booking/kit';

export interface AuditTopics {
  lifecycle: string;
  dlt: string;
  audit: string;
}

export const DEFAULT_TOPICS: AuditTopics = {
  lifecycle: TOPIC_NAMES.lifecycle,
  dlt: TOPIC_NAMES.dlt,
  audit: TOPIC_NAMES.audit,
};

export const groups = (prefix: string) => ({
  lifecycle: `${prefix}.lifecycle`,
  dlt: `${prefix}.dlt`,
  records: `${prefix}.records`,
});
