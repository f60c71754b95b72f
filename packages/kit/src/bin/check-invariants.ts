#!/usr/bin/env node
// `npm run check:invariants [-- --out results/reconciliation.json]`: checks the pipeline's invariants
// against the provider and prints the report as JSON. Exit 0 when every invariant holds, 1 when one
// does not, 2 when the check itself could not run.
import { Redis } from 'ioredis';
import { z } from 'zod';
import { baseConfigShape, loadConfig } from '../config.js';
import { reconcileFromSettings } from '../invariants.js';

const config = loadConfig(
  z.object({
    REDIS_URL: baseConfigShape.REDIS_URL,
    PROVIDER_URL: z.url(),
    PROVIDER_TOKEN: z.string().min(8),
    PROJECTION_PREFIX: z.string().default('apt:'),
    AUDIT_LOG_PATH: z.string().default('logs/audit.jsonl'),
    /** Optional: a ledger of every booking (the mock's /__mock/ledger) to find unknown bookings too. */
    PROVIDER_LEDGER_URL: z.url().optional(),
  }),
);
const outIndex = process.argv.indexOf('--out');
const out = outIndex > 0 ? process.argv[outIndex + 1] : undefined;
const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 2 });
try {
  const report = await reconcileFromSettings(redis, config, out);
  const text = `${JSON.stringify(report, null, 2)}\n`;
  process.stdout.write(text);
  process.exitCode = report.passed ? 0 : 1;
} catch (err) {
  process.stderr.write(`check:invariants could not run: ${(err as Error).message}\n`);
  process.exitCode = 2;
} finally {
  redis.disconnect();
}
