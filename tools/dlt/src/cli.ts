#!/usr/bin/env node
// booking-dlt: the dead-letter topics for ops (docs/operations.md).
//   list    [--reason R] [--since T] [--until T] [--limit N] [--json]
//   show    P:O [--json]                    one record, decoded, personal data masked
//   redrive P:O ... | --reason R [--since T] [--until T]  [--dry-run]
// T: ISO time, epoch ms, or a duration back from now (30m, 2h, 7d).
// --topic compensation: the compensation dead-letter topic (commands whose cancel failed every
// attempt) instead of the bookings' one.
import { parseArgs } from 'node:util';
import {
  AvroSerde,
  baseConfigShape,
  createKafka,
  createLogger,
  createSchemaRegistry,
  loadConfig,
  MASK,
  maskPii,
  PROJECTION_PREFIX,
  ProviderClient,
  redisConnectionOptions,
  topicNames,
} from '@booking/kit';
import type { DeadLetter } from '@booking/schemas';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { type DeadLetterEntry, type Filter, matches, readDeadLetters } from './read.js';
import { redrive } from './redrive.js';

const USAGE = `usage: booking-dlt list [--reason R] [--since T] [--until T] [--limit N] [--json]
       booking-dlt show PARTITION:OFFSET [--json]
       booking-dlt redrive PARTITION:OFFSET ... | --reason R [--since T] [--until T]  [--dry-run]
T: ISO time, epoch ms, or a duration back from now (30m, 2h, 7d)
--topic booking|compensation  which dead-letter topic (default booking: the dispatch requests';
                              compensation: cancels that failed every attempt)`;

const config = loadConfig(
  z.object({
    KAFKA_BROKERS: baseConfigShape.KAFKA_BROKERS,
    SCHEMA_REGISTRY_URL: baseConfigShape.SCHEMA_REGISTRY_URL,
    REDIS_URL: baseConfigShape.REDIS_URL.optional(),
    PROVIDER_URL: z.url().optional(),
    PROVIDER_TOKEN: z.string().min(8).optional(),
    TOPIC_PREFIX: baseConfigShape.TOPIC_PREFIX,
    RETRY_DELAYS_MS: baseConfigShape.RETRY_DELAYS_MS,
    PROJECTION_PREFIX,
  }),
);

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    reason: { type: 'string' },
    since: { type: 'string' },
    until: { type: 'string' },
    limit: { type: 'string', default: '50' },
    json: { type: 'boolean', default: false },
    'dry-run': { type: 'boolean', default: false },
    topic: { type: 'string', default: 'booking' },
  },
});
const [command, ...refs] = positionals;

function time(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const d = /^(\d+)(m|h|d)$/.exec(v);
  if (d)
    return Date.now() - Number(d[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[d[2] as 'm' | 'h' | 'd'];
  const n = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (Number.isNaN(n)) fail(`not a time: ${v}`);
  return n;
}
function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

/** A dead letter as an operator may see it: personal data and raw bytes masked. */
export function masked(e: DeadLetterEntry) {
  const { originalValue, originalKey, ...rest } = maskPii('DeadLetter', e.value) as DeadLetter;
  return {
    ref: `${e.partition}:${e.offset}`,
    at: new Date(e.timestamp).toISOString(),
    ...rest,
    originalKey: originalKey ? Buffer.from(originalKey).toString('utf8') : null,
    originalValue: originalValue
      ? `${MASK} (${Buffer.from(e.value.originalValue ?? []).length} bytes)`
      : null,
  };
}

const logger = createLogger({ service: 'dlt', level: 'warn', fd: 2 });
const kafka = createKafka({ clientId: 'booking-dlt', brokers: config.KAFKA_BROKERS, logger });
const serde = new AvroSerde(createSchemaRegistry(config.SCHEMA_REGISTRY_URL));
const topics = topicNames(config.TOPIC_PREFIX);
const filter: Filter = {
  ...(values.reason ? { reason: values.reason } : {}),
  ...(values.since ? { since: time(values.since)! } : {}),
  ...(values.until ? { until: time(values.until)! } : {}),
};

if (command !== 'list' && command !== 'show' && command !== 'redrive')
  fail(`unknown command: ${command ?? '(none)'}`);
if (values.topic !== 'booking' && values.topic !== 'compensation')
  fail(`--topic: booking or compensation, got ${values.topic}`);
const kind = values.topic;
const dltTopic = kind === 'booking' ? topics.dlt : topics.compensationDlt;
const all = await readDeadLetters(kafka, serde, dltTopic);
const byRef = (ref: string) => {
  const [p, o] = ref.split(':');
  const e = all.find((x) => String(x.partition) === p && x.offset === o);
  if (!e) fail(`no dead letter at ${ref} on ${dltTopic}`);
  return e;
};

if (command === 'list') {
  const chosen = all.filter((e) => matches(e, filter)).slice(-Number(values.limit));
  if (values.json) console.log(JSON.stringify(chosen.map(masked), null, 2));
  else {
    for (const e of chosen) {
      const v = e.value;
      console.log(
        [
          `${e.partition}:${e.offset}`,
          new Date(e.timestamp).toISOString(),
          v.reason,
          v.appointmentId ?? '-',
          v.originalTopic,
          `attempts=${v.attempts}`,
        ].join('  '),
      );
    }
    console.error(`${chosen.length} of ${all.length} dead letters on ${dltTopic}`);
  }
} else if (command === 'show') {
  if (refs.length !== 1) fail('show takes one PARTITION:OFFSET');
  console.log(JSON.stringify(masked(byRef(refs[0]!)), null, 2));
} else {
  if (!config.REDIS_URL || !config.PROVIDER_URL || !config.PROVIDER_TOKEN)
    fail('redrive needs REDIS_URL, PROVIDER_URL and PROVIDER_TOKEN (./stack/stack.sh env prints them)');
  const repeated = refs.filter((r, i) => refs.indexOf(r) !== i);
  if (repeated.length)
    fail(`each dead letter once: ${[...new Set(repeated)].join(', ')} given more than once`);
  const chosen = refs.length
    ? refs.map(byRef)
    : Object.keys(filter).length
      ? all.filter((e) => matches(e, filter))
      : [];
  if (!chosen.length)
    fail('name the dead letters (PARTITION:OFFSET ...) or a filter (--reason, --since, --until)');
  const redis = new Redis(config.REDIS_URL, { ...redisConnectionOptions(), maxRetriesPerRequest: 2 });
  try {
    const results = await redrive(
      {
        kafka,
        serde,
        redis,
        provider: new ProviderClient({
          baseUrl: config.PROVIDER_URL,
          token: config.PROVIDER_TOKEN,
          timeoutMs: 5000,
        }),
        topics,
        retryDelaysMs: config.RETRY_DELAYS_MS,
        projectionPrefix: config.PROJECTION_PREFIX,
      },
      chosen,
      { dryRun: values['dry-run'], kind },
    );
    for (const r of results) {
      const what = r.decision.redrive
        ? r.sentTo
          ? `sent to ${r.sentTo}`
          : 'would be sent (dry run)'
        : `refused: ${r.decision.why}`;
      console.log(`${r.partition}:${r.offset}  ${r.appointmentId ?? '-'}  ${what}`);
    }
    const refused = results.filter((r) => !r.decision.redrive).length;
    console.error(
      `${results.length - refused} redriven${values['dry-run'] ? ' (dry run: nothing sent)' : ''}, ${refused} refused`,
    );
  } finally {
    redis.disconnect();
  }
}
