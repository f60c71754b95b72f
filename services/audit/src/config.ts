import { baseConfigShape, identityShape, PROJECTION_PREFIX } from '@booking/kit';
import { z } from 'zod';

const DAY = 24 * 60 * 60 * 1000;

export const auditConfigSchema = z.object({
  ...baseConfigShape,
  ...identityShape('audit'),
  AUDIT_HTTP_HOST: z.string().default('127.0.0.1'),
  AUDIT_HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(3002),
  /** Append-only JSON lines, PII masked by the schemas' marks. */
  AUDIT_LOG_PATH: z.string().default('logs/audit.jsonl'),
  PROJECTION_PREFIX,
  PROJECTION_TTL_MS: z.coerce
    .number()
    .int()
    .positive()
    .default(30 * DAY),
  /** For POST /invariants: the provider to check the pipeline's states against. */
  PROVIDER_URL: z.url().optional(),
  PROVIDER_TOKEN: z.string().min(8).optional(),
  /** Optional: a ledger listing every booking (the mock's /__mock/ledger). */
  PROVIDER_LEDGER_URL: z.url().optional(),
  INVARIANTS_REPORT_PATH: z.string().default('results/invariants.json'),
});

export type AuditConfig = z.infer<typeof auditConfigSchema>;
