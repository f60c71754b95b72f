import { baseConfigShape } from '@booking/kit';
import { z } from 'zod';

export const compensationConfigSchema = z.object({
  ...baseConfigShape,
  SERVICE_NAME: z.string().default('compensation'),
  PROVIDER_URL: z.url(),
  PROVIDER_TOKEN: z.string().min(8),
  PROVIDER_TIMEOUT_MS: z.coerce.number().int().positive().default(2000),
  MAX_ATTEMPTS: z.coerce.number().int().min(1).default(5),
  RETRY_JITTER: z.coerce.number().min(0).max(0.9).default(0.2),
  COMPENSATION_HTTP_HOST: z.string().default('127.0.0.1'),
  COMPENSATION_HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(3003),
  GROUP_PREFIX: z.string().default('compensation'),
});

export type CompensationConfig = z.infer<typeof compensationConfigSchema>;
