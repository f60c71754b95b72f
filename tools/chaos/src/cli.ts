#!/usr/bin/env node
// `npm run -s chaos [-- matrix] [--bookings 5000] [--faults a,b] [--clients 16] [--out FILE]`: issue
// 14's fault matrix against the services of `./stack/stack.sh up --all` (variables from
// `./stack/stack.sh env`): for each fault, a round of the canonical mix with the fault injected a
// third of the way in, then the checks of round.ts and the whole invariant checker. Writes
// results/chaos.json after every fault; exit 0 only when every fault passed.
//
// `npm run -s chaos -- broker-restart [--rounds 20] [--http 300] [--kafka 100] [--down-ms 10000]
//  [--until-failure]`: issue 20's reproduction (results/chaos-broker-restart.json).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  createLogger,
  invariantCheckFromSettings,
  isPipelineGroup,
  localHealthUrls,
  redisConnectionOptions,
  stackClients,
  stackVariable,
  writeJson,
} from '@booking/kit';
import { Redis } from 'ioredis';
import { localBroker } from './broker.js';
import { DEFAULT_BROKER_ROUND } from './broker-restart.js';
import { type Fault, localMatrix } from './faults.js';
import { localStack, secondInstanceHealthUrls } from './local-stack.js';
import { faultRound, type PipelineTarget, type RoundResult } from './round.js';
import { CANONICAL_MIX, DEFAULT_MIX } from './workload.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const USAGE = `usage: chaos [matrix] [--bookings N] [--faults NAME,…] [--clients N] [--out FILE]
       chaos broker-restart [--rounds N] [--http N] [--kafka N] [--down-ms MS] [--until-failure]
faults: kill-intake, kill-provider-dispatch, kill-audit, kill-compensation, kill-reconciler,
        kill-broker, restart-registry, kill-redis, provider-down, provider-slow; with
        ./stack/stack.sh up --all --instances 2 also kill-provider-dispatch-2, pause-provider-dispatch-2;
        on three Kafka nodes (up --brokers 3) also kill-leader`;
const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    bookings: { type: 'string', default: '5000' },
    faults: { type: 'string' },
    clients: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '20' },
    http: { type: 'string', default: String(DEFAULT_BROKER_ROUND.http) },
    kafka: { type: 'string', default: String(DEFAULT_BROKER_ROUND.kafka) },
    'down-ms': { type: 'string', default: String(DEFAULT_BROKER_ROUND.downMs) },
    'until-failure': { type: 'boolean', default: false },
    out: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
const command = positionals[0] ?? 'matrix';
if (values.help || !['matrix', 'broker-restart'].includes(command)) {
  process.stderr.write(`${USAGE}\n`);
  process.exit(values.help ? 0 : 2);
}
const wholeNumber = (name: string, v: string | undefined, min = 1) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) {
    process.stderr.write(`--${name}: a whole number >= ${min}, got '${v}'\n`);
    process.exit(2);
  }
  return n;
};
const env = stackVariable;
const broker = localBroker(ROOT);
if (!broker) {
  process.stderr.write(
    'no local broker (./stack/stack.sh up --all first): this command kills and restarts it\n',
  );
  process.exit(2);
}
const logger = createLogger({ service: 'chaos', level: 'warn', fd: 2 });
const { kafka, producerKafka, serde, topics } = stackClients('chaos', logger);
const target: PipelineTarget = {
  intakeUrl: env('INTAKE_URL', 'http://127.0.0.1:3000'),
  apiKey: env('INTAKE_API_KEY'),
  kafka,
  producerKafka,
  serde,
  topics,
  ledgerUrl: `${env('PROVIDER_URL')}/__mock/ledger`,
  health: { ...localHealthUrls(), ...secondInstanceHealthUrls(localStack(ROOT)) },
  groups: isPipelineGroup,
  logger,
};

const describe = (r: RoundResult) =>
  `${r.fault} (round ${r.round}): ${r.passed ? 'ok' : 'FAILED'} acknowledged ${r.acknowledged}/${r.bookings} (expired before acceptance ${r.expired}), lost ${r.lost.length}, unreadable ${r.unreadable.length}, not terminal ${r.notTerminal.length}, double-booked ${r.doubleBooked.length}, duplicate terminal ${r.duplicateTerminal.length}, unhealthy ${r.unhealthy.length}, terminal ${r.msToTerminal ?? '-'} ms after the fault's end (or the last acknowledgement), max lag ${r.maxLag ?? '-'}\n`;
const details = (r: RoundResult) => {
  for (const e of r.faultErrors) process.stderr.write(`  fault: ${e.split('\n')[0]}\n`);
  for (const u of r.unhealthy.slice(0, 5)) process.stderr.write(`  unhealthy: ${u}\n`);
  for (const u of r.unacknowledged.slice(0, 5))
    process.stderr.write(
      `  not acknowledged: ${u.channel} ${u.key} after ${u.attempts} attempts, last answers ${u.answers.join(' ')}\n`,
    );
  for (const [what, ids] of [
    ['lost', r.lost],
    ['not terminal', r.notTerminal],
    ['double-booked', r.doubleBooked],
    ['duplicate terminal', r.duplicateTerminal],
  ] as const)
    for (const id of ids.slice(0, 5)) process.stderr.write(`  ${what}: ${id}\n`);
};

if (command === 'broker-restart') {
  const out = values.out ?? join(ROOT, 'results', 'chaos-broker-restart.json');
  const options = {
    ...DEFAULT_BROKER_ROUND,
    http: wholeNumber('http', values.http, 0),
    kafka: wholeNumber('kafka', values.kafka, 0),
    downMs: wholeNumber('down-ms', values['down-ms'], 0),
  };
  const rounds: RoundResult[] = [];
  const started = new Date().toISOString();
  const faults = localMatrix(localStack(ROOT), broker, env('PROVIDER_URL'), {
    kafka,
    busiestTopic: topics.requested,
  });
  const fault = { ...faults.find((f) => f.name === 'kill-broker')!, holdMs: options.downMs };
  let summary: Record<string, unknown> = {};
  for (let n = 1; n <= wholeNumber('rounds', values.rounds); n++) {
    const { bookingsDetail: _, ...r } = await faultRound(target, fault, n, { ...options, mix: DEFAULT_MIX });
    rounds.push(r);
    process.stderr.write(describe(r));
    details(r);
    summary = {
      started,
      options,
      rounds: rounds.length,
      passed: rounds.filter((x) => x.passed).length,
      lost: rounds.reduce((k, x) => k + x.lost.length, 0),
      doubleBooked: rounds.reduce((k, x) => k + x.doubleBooked.length, 0),
      notTerminal: rounds.reduce((k, x) => k + x.notTerminal.length, 0),
      unhealthyRounds: rounds.filter((x) => x.unhealthy.length > 0).length,
    };
    writeJson(out, { summary, rounds });
    if (!r.passed && values['until-failure']) break;
  }
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  process.exit(summary.passed === summary.rounds ? 0 : 1);
}

// The matrix.
const out = values.out ?? join(ROOT, 'results', 'chaos.json');
const bookings = wholeNumber('bookings', values.bookings, 4);
const all = localMatrix(localStack(ROOT), broker, env('PROVIDER_URL'), {
  kafka,
  busiestTopic: topics.requested,
});
let chosen: Fault[] = all;
if (values.faults) {
  const names = values.faults.split(',').map((s) => s.trim());
  const unknown = names.filter((n) => !all.some((f) => f.name === n));
  if (unknown.length) {
    process.stderr.write(`unknown fault(s): ${unknown.join(', ')}\n${USAGE}\n`);
    process.exit(2);
  }
  chosen = names.map((n) => all.find((f) => f.name === n)!);
}
const redis = new Redis(env('REDIS_URL'), { ...redisConnectionOptions(), maxRetriesPerRequest: 20 });
const acknowledged: string[] = [];
const results: (Omit<
  RoundResult,
  'lost' | 'notTerminal' | 'doubleBooked' | 'duplicateTerminal' | 'unreadable'
> & {
  description: string;
  lost: number;
  notTerminal: number;
  doubleBooked: number;
  duplicateTerminal: number;
  unreadable: number;
  examples: Record<string, string[]>;
  invariants: {
    /** No invariant broken by this round's appointments (or newly, where a rule names none). */
    passed: boolean;
    /** The checker's verdict over everything the stack holds (earlier rounds included). */
    wholeStack: boolean;
    failed: { name: string; appointmentIds: string[]; thisRound: boolean; otherRounds: number }[];
  };
})[] = [];
const started = new Date().toISOString();
const http = Math.round(bookings * 0.75);
/** Invariants broken without naming an appointment, as of the last round. */
const brokenWithoutIds = new Set<string>();
for (const [i, fault] of chosen.entries()) {
  const { bookingsDetail, ...r } = await faultRound(target, fault, i + 1, {
    http,
    kafka: bookings - http,
    clients: wholeNumber('clients', values.clients),
    killAt: 1 / 3,
    settleBoundMs: 60_000,
    mix: CANONICAL_MIX,
  });
  for (const b of bookingsDetail) if (b.acknowledged) acknowledged.push(b.appointmentId);
  process.stderr.write(describe(r));
  details(r);
  const report = await invariantCheckFromSettings(
    redis,
    {
      PROVIDER_URL: env('PROVIDER_URL'),
      PROVIDER_TOKEN: env('PROVIDER_TOKEN'),
      PROJECTION_PREFIX: process.env.PROJECTION_PREFIX ?? 'apt:',
      AUDIT_LOG_PATH: join(ROOT, 'logs', 'audit.jsonl'),
      PROVIDER_LEDGER_URL: `${env('PROVIDER_URL')}/__mock/ledger`,
    },
    undefined,
    { acknowledged, kafka, serde, requestedTopic: topics.requested, lifecycleTopic: topics.lifecycle },
  );
  // The checker reads everything the stack holds: a break is this round's when it names one of this
  // round's appointments, or names none and was not broken after an earlier round. An earlier
  // round's failure is reported there and does not fail every round after it.
  const own = new Set(bookingsDetail.map((b) => b.appointmentId));
  const failed = report.invariants
    .filter((v) => !v.passed)
    .map((v) => {
      const mine = v.appointmentIds.filter((id) => own.has(id));
      return {
        name: v.name,
        appointmentIds: mine.slice(0, 20),
        thisRound: mine.length > 0 || (v.appointmentIds.length === 0 && !brokenWithoutIds.has(v.name)),
        otherRounds: v.appointmentIds.length - mine.length,
      };
    });
  for (const v of report.invariants)
    if (!v.passed && v.appointmentIds.length === 0) brokenWithoutIds.add(v.name);
  for (const f of failed)
    process.stderr.write(
      `  invariant broken: ${f.name} (${f.thisRound ? `this round: ${f.appointmentIds.length}+` : 'not this round'}; earlier rounds' appointments: ${f.otherRounds})\n`,
    );
  results.push({
    ...r,
    description: fault.description,
    lost: r.lost.length,
    notTerminal: r.notTerminal.length,
    doubleBooked: r.doubleBooked.length,
    duplicateTerminal: r.duplicateTerminal.length,
    unreadable: r.unreadable.length,
    examples: {
      lost: r.lost.slice(0, 10),
      notTerminal: r.notTerminal.slice(0, 10),
      doubleBooked: r.doubleBooked.slice(0, 10),
      duplicateTerminal: r.duplicateTerminal.slice(0, 10),
    },
    passed: r.passed && !failed.some((f) => f.thisRound),
    invariants: { passed: !failed.some((f) => f.thisRound), wholeStack: report.passed, failed },
  });
  writeJson(out, {
    started,
    finished: null,
    options: { bookingsPerFault: bookings, mix: CANONICAL_MIX, clients: Number(values.clients) },
    faults: results,
  });
}
const passed = results.filter((r) => r.passed).length;
writeJson(out, {
  started,
  finished: new Date().toISOString(),
  options: { bookingsPerFault: bookings, mix: CANONICAL_MIX, clients: Number(values.clients) },
  summary: {
    faults: results.length,
    passed,
    lost: results.reduce((n, r) => n + r.lost, 0),
    doubleBooked: results.reduce((n, r) => n + r.doubleBooked, 0),
    duplicateTerminal: results.reduce((n, r) => n + r.duplicateTerminal, 0),
    notTerminal: results.reduce((n, r) => n + r.notTerminal, 0),
  },
  faults: results,
});
await redis.quit().catch(() => undefined);
process.stdout.write(`${passed}/${results.length} faults passed; ${out}\n`);
process.exit(passed === results.length ? 0 : 1);
