import { baseConfigShape, identityShape, PROJECTION_PREFIX } from '@booking/kit';
import { z } from 'zod';

const DAY = 24 * 60 * 60 * 1000;

export const intakeConfigSchema = z
  .object({
    ...baseConfigShape,
    ...identityShape('intake'),
    INTAKE_HTTP_HOST: z.string().default('127.0.0.1'),
    INTAKE_HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    /** Comma-separated API keys; INTAKE_API_KEY (one key) is read when this is unset. */
    INTAKE_API_KEYS: z.string().optional(),
    INTAKE_API_KEY: z.string().optional(),
    /** Longer than the whole retry and DLT window (default 7 days, the topics' retention). */
    IDEMPOTENCY_TTL_MS: z.coerce
      .number()
      .int()
      .positive()
      .default(7 * DAY),
    /** How long a key stays "being accepted" before a retry may take it over. */
    ACCEPTING_TTL_MS: z.coerce.number().int().positive().default(30_000),
    /**
     * How long a request waits for its records' transaction to commit before it is answered 503
     * (retry with the same key). At most half of ACCEPTING_TTL_MS, so the claim outlives the wait.
     */
    ACCEPT_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
    /** Inbound records handled side by side, across partitions (one key stays in order). */
    KEY_CONCURRENCY: z.coerce.number().int().min(1).max(4096).default(64),
    PARTITIONS_CONCURRENCY: z.coerce.number().int().min(1).default(6),
    BODY_LIMIT_BYTES: z.coerce
      .number()
      .int()
      .positive()
      .default(16 * 1024),
    /** Requests a minute per API key on /v1 before 429 (counted in Redis, across instances). */
    RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(60_000),
    /** How far ahead a slot or a deadline may lie. */
    BOOKING_HORIZON_DAYS: z.coerce.number().int().min(1).max(3650).default(730),
    /** Where audit keeps the status projection that GET /v1/appointments reads. */
    PROJECTION_PREFIX,
  })
  .transform((c, ctx) => {
    const keys = (c.INTAKE_API_KEYS ?? c.INTAKE_API_KEY ?? '')
      .split(',')
      .map((k) => k.trim())
      .filter(Boolean);
    if (keys.length === 0)
      ctx.addIssue({ code: 'custom', path: ['INTAKE_API_KEYS'], message: 'required: at least one API key' });
    if (keys.some((k) => k.length < 16))
      ctx.addIssue({
        code: 'custom',
        path: ['INTAKE_API_KEYS'],
        message: 'each key must be at least 16 characters',
      });
    if (c.ACCEPT_TIMEOUT_MS * 2 > c.ACCEPTING_TTL_MS)
      ctx.addIssue({
        code: 'custom',
        path: ['ACCEPT_TIMEOUT_MS'],
        message: 'must be at most half of ACCEPTING_TTL_MS (the claim must outlive the wait)',
      });
    return { ...c, apiKeys: keys };
  });

export type IntakeConfig = z.infer<typeof intakeConfigSchema>;
