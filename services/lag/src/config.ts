import { baseConfigShape } from '@booking/kit';
import { z } from 'zod';

export const lagConfigSchema = z.object({
  SERVICE_NAME: z.string().default('lag'),
  KAFKA_BROKERS: baseConfigShape.KAFKA_BROKERS,
  LOG_LEVEL: baseConfigShape.LOG_LEVEL,
  SHUTDOWN_TIMEOUT_MS: baseConfigShape.SHUTDOWN_TIMEOUT_MS,
  LAG_HTTP_HOST: z.string().default('127.0.0.1'),
  LAG_HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(3100),
  /** How often offsets are read. */
  LAG_POLL_MS: z.coerce.number().int().positive().default(2000),
  /** Offset samples per partition the status rules look at (Burrow's window). */
  LAG_WINDOW: z.coerce.number().int().min(2).default(10),
  /**
   * Lag at or below this counts as none: a transactional consumer's committed offset stays one
   * short of the end offset (the commit marker is a record no consumer ever receives).
   */
  LAG_ALLOWED: z.coerce.number().int().min(0).default(1),
  /** A lagging partition whose committed offset has not moved for this long is STOPped. */
  LAG_STOP_AFTER_MS: z.coerce.number().int().positive().default(300_000),
  /** Only groups whose id matches (default: all but Kafka's and tools' own). */
  LAG_GROUPS: z.string().default('^(?!_|console-consumer-).+'),
  /** Minutes of history the page shows. */
  LAG_HISTORY_MINUTES: z.coerce.number().int().positive().default(15),
});

export type LagConfig = z.infer<typeof lagConfigSchema>;
