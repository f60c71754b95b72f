#!/usr/bin/env node
// `npm run -s chaos -- broker-restart [--rounds 20] [--http 300] [--kafka 100] [--down-ms 10000]
//  [--until-failure]`: issue 20's reproduction against the services of `./stack/stack.sh up --all`
// (variables from `./stack/stack.sh env`). Writes results/chaos-broker-restart.json after every
// round; exit 0 only when every round passed.
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
import { localBroker } from './broker.js';
import { brokerRestartRound, DEFAULT_ROUND, type RoundResult } from './broker-restart.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    rounds: { type: 'string', default: '20' },
    http: { type: 'string', default: String(DEFAULT_ROUND.http) },
    kafka: { type: 'string', default: String(DEFAULT_ROUND.kafka) },
    'down-ms': { type: 'string', default: String(DEFAULT_ROUND.downMs) },
    'until-failure': { type: 'boolean', default: false },
    out: { type: 'string', default: join(ROOT, 'results', 'chaos-broker-restart.json') },
  },
});
if (positionals[0] !== 'broker-restart') {
  process.stderr.write(
    'usage: chaos broker-restart [--rounds N] [--http N] [--kafka N] [--down-ms MS] [--until-failure]\n',
  );
  process.exit(2);
}
const env = stackVariable;
const broker = localBroker(ROOT);
if (!broker) {
  process.stderr.write(
    'no local broker (./stack/stack.sh up --all first): this command kills and restarts it\n',
  );
  process.exit(2);
}
const logger = createLogger({ service: 'chaos', level: 'warn', fd: 2 });
const { kafka, serde, topics } = stackClients('chaos', logger);
const target = {
  intakeUrl: env('INTAKE_URL', 'http://127.0.0.1:3000'),
  apiKey: env('INTAKE_API_KEY'),
  kafka,
  serde,
  topics,
  ledgerUrl: `${env('PROVIDER_URL')}/__mock/ledger`,
  health: localHealthUrls(),
  groups: isPipelineGroup,
  broker,
  logger,
};
const options = {
  ...DEFAULT_ROUND,
  http: Number(values.http),
  kafka: Number(values.kafka),
  downMs: Number(values['down-ms']),
};
const rounds: RoundResult[] = [];
const started = new Date().toISOString();
const write = () => {
  const summary = {
    started,
    options,
    rounds: rounds.length,
    passed: rounds.filter((r) => r.passed).length,
    lost: rounds.reduce((n, r) => n + r.lost.length, 0),
    doubleBooked: rounds.reduce((n, r) => n + r.doubleBooked.length, 0),
    notTerminal: rounds.reduce((n, r) => n + r.notTerminal.length, 0),
    unhealthyRounds: rounds.filter((r) => r.unhealthy.length > 0).length,
    maxMsToTerminal: Math.max(0, ...rounds.map((r) => r.msToTerminal ?? Number.POSITIVE_INFINITY)),
  };
  writeJson(values.out, { summary, rounds });
  return summary;
};
for (let n = 1; n <= Number(values.rounds); n++) {
  const { bookingsDetail: _, ...r } = await brokerRestartRound(target, n, options);
  rounds.push(r);
  process.stderr.write(
    `round ${n}: ${r.passed ? 'ok' : 'FAILED'} acknowledged ${r.acknowledged}/${r.bookings}, lost ${r.lost.length}, unreadable ${r.unreadable.length}, not terminal ${r.notTerminal.length}, double-booked ${r.doubleBooked.length}, unhealthy ${r.unhealthy.length}, terminal ${r.msToTerminal ?? '-'} ms after the broker's return\n`,
  );
  for (const u of r.unhealthy.slice(0, 5)) process.stderr.write(`  unhealthy: ${u}\n`);
  for (const id of r.lost.slice(0, 5)) process.stderr.write(`  lost: ${id}\n`);
  write();
  if (!r.passed && values['until-failure']) break;
}
const summary = write();
process.stdout.write(`${JSON.stringify(summary)}\n`);
process.exit(summary.passed === summary.rounds ? 0 : 1);
