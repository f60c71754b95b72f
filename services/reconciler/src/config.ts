import { baseConfigShape, identityShape, PROJECTION_PREFIX, providerConfigShape } from '@booking/kit';
import { z } from 'zod';

export const reconcilerConfigSchema = z.object({
  ...baseConfigShape,
  ...identityShape('reconciler'),
  ...providerConfigShape,
  RECONCILER_HTTP_HOST: z.string().default('127.0.0.1'),
  RECONCILER_HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(3004),
  PROJECTION_PREFIX,
  /**
   * "No booking at the provider" after failed attempts is believed only this long after the dead
   * letter (a create that timed out can still land): as dispatch's DUPLICATE_CHECK_AFTER_MS.
   */
  LATE_CREATE_WINDOW_MS: z.coerce.number().int().min(0).default(10_000),
  /** How often to look for appointments stuck in a non-terminal state; 0 turns the sweep off. */
  SWEEP_INTERVAL_MS: z.coerce.number().int().min(0).default(60_000),
  /** Longer than the whole retry schedule (1+4+16+30 s) and any pending poll. */
  STUCK_AFTER_MS: z.coerce
    .number()
    .int()
    .positive()
    .default(15 * 60_000),
});

export type ReconcilerConfig = z.infer<typeof reconcilerConfigSchema>;
