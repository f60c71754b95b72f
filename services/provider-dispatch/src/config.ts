import { baseConfigShape, identityShape, providerConfigShape, retryConfigShape } from '@booking/kit';
import { z } from 'zod';

const DAY = 24 * 60 * 60 * 1000;

export const dispatchConfigSchema = z.object({
  ...baseConfigShape,
  ...identityShape('provider-dispatch'),
  ...providerConfigShape,
  ...retryConfigShape,
  /** Open when more than this share of the last CIRCUIT_WINDOW calls failed (5xx, timeout, reset). */
  CIRCUIT_FAILURE_RATE: z.coerce.number().gt(0).lt(1).default(0.8),
  CIRCUIT_WINDOW: z.coerce.number().int().min(1).default(100),
  /** Fewer calls than this in the window never open the circuit. */
  CIRCUIT_MIN_CALLS: z.coerce.number().int().min(1).default(30),
  CIRCUIT_HALF_OPEN_AFTER_MS: z.coerce.number().int().positive().default(10_000),
  PENDING_POLL_MIN_MS: z.coerce.number().int().positive().default(250),
  /**
   * After an ambiguous attempt (timeout, lost answer) the request may still commit at the provider
   * later; the appointment is looked up again this long after it settles, and extra bookings are
   * cancelled (found by the crash tests under load: a timed-out create landed after the retry).
   */
  DUPLICATE_CHECK_AFTER_MS: z.coerce.number().int().positive().default(10_000),
  PENDING_POLL_MAX_MS: z.coerce.number().int().positive().default(30_000),
  /** Remembers that an appointment was sent to the provider: longer than the retry and DLT window. */
  ATTEMPT_MARKER_TTL_MS: z.coerce
    .number()
    .int()
    .positive()
    .default(7 * DAY),
  DISPATCH_HTTP_HOST: z.string().default('127.0.0.1'),
  DISPATCH_HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(3001),
  PARTITIONS_CONCURRENCY: z.coerce.number().int().min(1).default(6),
  /**
   * Appointments handled at the same time per consumer, across its partitions (one appointment's
   * records stay in order). Provider calls wait on the network, so this is wide.
   */
  KEY_CONCURRENCY: z.coerce.number().int().min(1).max(4096).default(256),
});

export type DispatchConfig = z.infer<typeof dispatchConfigSchema>;
