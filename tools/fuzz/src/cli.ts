#!/usr/bin/env node
// `npm run -s fuzz [-- --http 10000 --records 1000 --seed N]`: hostile input against the services of
// `./stack/stack.sh up --all` (variables from `./stack/stack.sh env`). Writes results/fuzz.json; exit 0
// only when there was no 5xx, no bad record unaccounted for, every service healthy, every group's
// lag drained and no personal data in any log.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  createLogger,
  isPipelineGroup,
  localHealthUrls,
  stackClients,
  stackVariable,
  writeJson,
} from '@booking/kit';
import { fuzz } from './fuzz.js';
import { materialFor } from './material.js';
import { consumedTopics, foreignOf } from './topics.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const { values } = parseArgs({
  options: {
    http: { type: 'string', default: '10000' },
    records: { type: 'string', default: '1000' },
    seed: { type: 'string', default: String(Date.now() % 1_000_000) },
    out: { type: 'string', default: join(ROOT, 'results', 'fuzz.json') },
  },
});
const env = stackVariable;
const logger = createLogger({ service: 'fuzz', level: 'error', fd: 2 });
const { kafka, serde, topics: names } = stackClients('fuzz', logger);
const retryDelays = (process.env.RETRY_DELAYS_MS ?? '1000,4000,16000,30000').split(',').map(Number);
const result = await fuzz(
  {
    intakeUrl: env('INTAKE_URL', 'http://127.0.0.1:3000'),
    apiKey: env('INTAKE_API_KEY'),
    kafka,
    serde,
    topics: consumedTopics(names, retryDelays),
    material: materialFor(serde, foreignOf(names)),
    auditLogPath: join(ROOT, 'logs', 'audit.jsonl'),
    health: localHealthUrls(),
    groups: isPipelineGroup,
    logs: [join(ROOT, 'logs')],
    logger,
  },
  {
    http: Number(values.http),
    recordsPerTopic: Number(values.records),
    seed: Number(values.seed),
    concurrency: 16,
    settleBoundMs: 180_000,
  },
);
writeJson(values.out, result);
process.stdout.write(
  `${JSON.stringify({
    passed: result.passed,
    seed: result.seed,
    http: result.http.sent,
    serverErrors: result.http.serverErrors.length,
    rules: result.rules.sent,
    ruleViolations: result.rules.violations.length,
    records: result.kafka.reduce((n, k) => n + k.sent, 0),
    lost: result.lost.length,
    unhealthy: result.unhealthy.length,
    lagging: result.lagging.length,
    piiHits: result.piiHits.length,
  })}\n`,
);
process.exit(result.passed ? 0 : 1);
