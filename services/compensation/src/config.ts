import { baseConfigShape, identityShape, providerConfigShape, retryConfigShape } from '@booking/kit';
import { z } from 'zod';

export const compensationConfigSchema = z.object({
  ...baseConfigShape,
  ...identityShape('compensation'),
  ...providerConfigShape,
  ...retryConfigShape,
  COMPENSATION_HTTP_HOST: z.string().default('127.0.0.1'),
  COMPENSATION_HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(3003),
});

export type CompensationConfig = z.infer<typeof compensationConfigSchema>;
