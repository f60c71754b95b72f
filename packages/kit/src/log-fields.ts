// Structured log field names, one place (docs/design.md, "Structured logging schema", lists them with their meaning).
export const LOG_FIELDS = {
  service: 'service',
  appointmentId: 'appointmentId',
  requestId: 'requestId',
  correlationId: 'correlationId',
  topic: 'topic',
  partition: 'partition',
  offset: 'offset',
  attempt: 'attempt',
  from: 'from',
  to: 'to',
  latencyMs: 'latencyMs',
  idempotencyKeyHash: 'idempotencyKeyHash',
  errorCode: 'errorCode',
} as const;
