#!/usr/bin/env node
// booking-bench: what the pipeline sustains on this machine, and what it costs, measured against
// the raw kafkajs limit in the same run. Writes results/bench.json, the latency-versus-rate chart,
// and refreshes the generated part of docs/benchmark.md. Nothing here is asserted by a test: a
// benchmark reports what it reached (docs/benchmark.md explains the method).
//
//   ./stack/stack.sh up --all && eval "$(./stack/stack.sh env)" && npm run -s bench
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  createKafka,
  createLogger,
  redisConnectionOptions,
  stackClients,
  stackVariable,
  TRANSACTION_RETRY,
  topicSpecs,
} from '@booking/kit';
import { Redis } from 'ioredis';
import { type CapacityStep, capacityOf, judgeStep, nextRate } from './capacity.js';
import { latencyVsRateSvg, type RatePoint } from './chart.js';
import { type CountsPerBooking, countsPerBooking, sampleCounts } from './counts.js';
import { type CpuPerBooking, cpuPerBooking, sampleCpu } from './cpu.js';
import { renderBenchDoc } from './doc.js';
import { canonicalMix, IMMEDIATE, runLoad, type Scenario } from './load.js';
import {
  byScenario,
  type PipelineResult,
  pipelineResult,
  type RawResult,
  type ScenarioResult,
} from './measure.js';
import { rawLimit } from './raw.js';
import { rdkafkaLimit } from './raw-rdkafka.js';

const USAGE = `usage: booking-bench [options]   (the stack and services up: ./stack/stack.sh up --all)
  --raw N                 records for the raw limits: kafkajs plain and with the pipeline's producer settings, librdkafka plain and the three-hop transactional chain (default 200000; 0 skips)
  --capacity-start R      first rate of the capacity search, bookings/s (default 200)
  --capacity-step S       seconds per search step (default 60; 0 skips the search)
  --capacity-factor F     rate growth per step until one fails (default 1.5)
  --capacity-max-steps N  (default 8)
  --tail-bound S          a step keeps up when its last booking is final within S s of the last send (default 2)
  --capacity R            use R as the capacity instead of searching
  --latency-duration S    seconds at each of 25, 50 and 80 % of capacity, immediate path (default 30; 0 skips)
  --mix-duration S        seconds of the canonical mix at 50 % of capacity (default 60; 0 skips)
  --instances-duration S  seconds at 80 % of capacity with a second provider-dispatch instance (default 30; 0 skips)
  --data FILE             the canonical mix (default data/test_data.json)
  --drain-timeout S       bound on waiting for the last booking to settle (default 120)
  --warmup S              seconds at 100 bookings/s first, not measured (default 20; 0 skips)
  --out FILE              (default results/bench.json)
  --doc FILE              the doc whose generated part is refreshed (default docs/benchmark.md; '' skips)
env: KAFKA_BROKERS, SCHEMA_REGISTRY_URL, REDIS_URL, TOPIC_PREFIX, STACK_STATE_DIR`;

const { values } = parseArgs({
  options: {
    raw: { type: 'string', default: '200000' },
    'capacity-start': { type: 'string', default: '200' },
    'capacity-step': { type: 'string', default: '60' },
    'capacity-factor': { type: 'string', default: '1.5' },
    'capacity-max-steps': { type: 'string', default: '8' },
    'tail-bound': { type: 'string', default: '2' },
    capacity: { type: 'string', default: '0' },
    'latency-duration': { type: 'string', default: '30' },
    'mix-duration': { type: 'string', default: '60' },
    'instances-duration': { type: 'string', default: '30' },
    data: { type: 'string', default: 'data/test_data.json' },
    'drain-timeout': { type: 'string', default: '120' },
    warmup: { type: 'string', default: '20' },
    out: { type: 'string', default: 'results/bench.json' },
    doc: { type: 'string', default: 'docs/benchmark.md' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const num = (name: keyof typeof values, whole = true) => {
  const n = Number(values[name]);
  if (!Number.isFinite(n) || n < 0 || (whole && !Number.isInteger(n))) {
    process.stderr.write(`--${name}: a ${whole ? 'whole ' : ''}number >= 0, got ${values[name]}\n${USAGE}\n`);
    process.exit(2);
  }
  return n;
};
const opt = {
  raw: num('raw'),
  capStart: num('capacity-start'),
  capStepS: num('capacity-step'),
  capFactor: num('capacity-factor', false),
  capMaxSteps: num('capacity-max-steps'),
  tailBoundMs: num('tail-bound', false) * 1000,
  capacity: num('capacity'),
  latencyS: num('latency-duration'),
  mixS: num('mix-duration'),
  instancesS: num('instances-duration'),
  drainMs: num('drain-timeout') * 1000,
  warmupS: num('warmup'),
};
if (opt.capFactor <= 1) {
  process.stderr.write(`--capacity-factor: above 1\n${USAGE}\n`);
  process.exit(2);
}

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const STATE_DIR = process.env.STACK_STATE_DIR ?? join(ROOT, '.stack');
const runId = randomBytes(3).toString('hex');
const logger = createLogger({ service: 'bench', level: 'warn', fd: 2 });
const { kafka, serde, topics } = stackClients(`booking-bench-${runId}`, logger);
const pipelineTopics = topicSpecs(undefined, topics).map((t) => t.name);
const redis = process.env.REDIS_URL
  ? new Redis(process.env.REDIS_URL, {
      ...redisConnectionOptions(),
      lazyConnect: true,
      maxRetriesPerRequest: 1,
    })
  : undefined;
const say = (s: string) => process.stderr.write(`${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, done: () => boolean, boundMs: number): Promise<boolean> {
  const end = Date.now() + boundMs;
  while (!done()) {
    if (Date.now() > end) {
      say(`  ${what}: bound of ${boundMs / 1000} s ran out`);
      return false;
    }
    await sleep(50);
  }
  return true;
}

export interface PhaseResult extends PipelineResult {
  phase: string;
  cpu?: CpuPerBooking;
  counts?: CountsPerBooking;
  by_scenario?: Record<string, ScenarioResult>;
  /** From the last send to the last final state seen. */
  tail_ms: number | null;
}

async function phase(
  name: string,
  perS: number,
  seconds: number,
  scenarios: Scenario[],
): Promise<PhaseResult> {
  const cpuBefore = sampleCpu(STATE_DIR);
  const countsBefore = await sampleCounts(kafka, pipelineTopics, redis);
  const run = await runLoad({
    kafka,
    serde,
    topics,
    source: `bench-${runId}-${name}-${perS}`,
    perS,
    seconds,
    scenarios,
    drainMs: opt.drainMs,
    until,
    say,
  });
  const result = pipelineResult(
    { targetRate: perS, durationS: seconds, produced: run.produced, produceMs: run.produceMs },
    run.traces.values(),
  );
  const cpu = cpuPerBooking(cpuBefore, sampleCpu(STATE_DIR), result.confirmed);
  const counts = countsPerBooking(
    countsBefore,
    await sampleCounts(kafka, pipelineTopics, redis),
    result.confirmed,
  );
  let lastSeen = 0;
  let lastSent = 0;
  for (const t of run.traces.values()) {
    lastSeen = Math.max(lastSeen, t.seenAt ?? 0);
    lastSent = Math.max(lastSent, t.sentAt ?? 0);
  }
  const out: PhaseResult = {
    phase: name,
    ...result,
    ...(Object.keys(cpu.cpu_ms).length > 0 ? { cpu } : {}),
    counts,
    ...(scenarios.length > 1 ? { by_scenario: byScenario(run.traces.values()) } : {}),
    tail_ms: lastSeen > 0 && result.unfinished === 0 ? lastSeen - lastSent : null,
  };
  const o = out.latency_scheduled_to_seen_confirmed;
  say(
    `  ${out.confirmed_per_s ?? 0}/s confirmed of ${out.offered_per_s}/s offered, ${out.unfinished} unfinished; scheduled -> CONFIRMED p50 ${o.p50_ms} p95 ${o.p95_ms} p99 ${o.p99_ms} ms`,
  );
  const st = out.stages;
  say(
    `  p50 stages (ms): scheduled->produced ${st.scheduled_to_produced.p50_ms}, produced->accepted ${st.produced_to_accepted.p50_ms}, accepted->dispatching ${st.accepted_to_dispatching.p50_ms}, dispatching->confirmed ${st.dispatching_to_confirmed.p50_ms}, confirmed->written ${st.confirmed_to_written.p50_ms}, written->seen ${st.written_to_seen.p50_ms}`,
  );
  if (out.cpu)
    say(
      `  CPU ms per booking: services ${out.cpu.services_ms_per_booking}, all ${out.cpu.all_ms_per_booking}`,
    );
  say(
    `  per booking: ${counts.kafka_offsets_per_booking} Kafka log offsets, ${counts.redis_commands_per_booking ?? '–'} Redis commands`,
  );
  return out;
}

/** A second provider-dispatch in the same group, started from the built service with the stack's settings. */
async function secondDispatch(): Promise<ChildProcess> {
  const port = 3005;
  const child = spawn(process.execPath, [join(ROOT, 'services/provider-dispatch/dist/main.js')], {
    env: { ...process.env, DISPATCH_HTTP_PORT: String(port) },
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  // Never left behind: an orphan in the group takes partitions and CPU from every later run.
  const stop = () => child.kill('SIGKILL');
  process.once('exit', stop);
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => {
      stop();
      process.exit(130);
    });
  const up = async () =>
    fetch(`http://127.0.0.1:${port}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
  const end = Date.now() + 60_000;
  while (!(await up())) {
    if (Date.now() > end || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error('the second provider-dispatch did not become healthy within 60 s');
    }
    await sleep(250);
  }
  return child;
}

const result: {
  run_id: string;
  started_at: string;
  machine: { cpus: number; node: string };
  raw?: RawResult[];
  capacity?: { per_s: number; searched: boolean; steps: CapacityStep[] };
  latency?: PhaseResult[];
  mix?: PhaseResult;
  instances?: { one: PhaseResult | undefined; two: PhaseResult };
  finished_at?: string;
} = {
  run_id: runId,
  started_at: new Date().toISOString(),
  machine: { cpus: availableParallelism(), node: process.version },
};
await redis?.connect().catch(() => undefined);

if (opt.raw > 0) {
  result.raw = [];
  for (const mode of ['plain', 'pipeline-settings'] as const) {
    say(`raw kafkajs (${mode}): ${opt.raw} records produce -> consume`);
    // The pipeline's settings include its client's retry for transactions (TRANSACTION_RETRY: a
    // CONCURRENT_TRANSACTIONS answer waited 300 ms with kafkajs's default, 20 ms in the pipeline).
    const client =
      mode === 'plain'
        ? kafka
        : createKafka({
            clientId: `booking-bench-raw-${runId}`,
            brokers: stackVariable('KAFKA_BROKERS').split(','),
            logger,
            retry: TRANSACTION_RETRY,
          });
    const r = await rawLimit(client, runId, opt.raw, mode, until);
    say(`  ${r.produce_consume_per_s} records/s (produce alone ${r.produce_per_s}/s)`);
    result.raw.push(r);
  }
  // The client the services move to (issue 28): its plain limit, and the chain of the pipeline's shape.
  for (const mode of ['rdkafka-plain', 'rdkafka-chain'] as const) {
    say(`raw librdkafka (${mode}): ${opt.raw} records`);
    const r = await rdkafkaLimit(stackVariable('KAFKA_BROKERS'), runId, opt.raw, mode, until);
    say(`  ${r.produce_consume_per_s} records/s`);
    result.raw.push(r);
  }
}
if (opt.warmupS > 0) {
  say(`warm-up: 100 bookings/s for ${opt.warmupS} s (not measured)`);
  await phase('warmup', 100, opt.warmupS, IMMEDIATE);
}

let capacity = opt.capacity;
const steps: CapacityStep[] = [];
const points: RatePoint[] = [];
if (capacity === 0 && opt.capStepS > 0) {
  const search = { start: opt.capStart, factor: opt.capFactor, maxSteps: opt.capMaxSteps };
  for (let rate = nextRate(steps, search); rate !== undefined; rate = nextRate(steps, search)) {
    say(`capacity step: ${rate} bookings/s for ${opt.capStepS} s (immediate path)`);
    const r = await phase(`capacity-${steps.length + 1}`, rate, opt.capStepS, IMMEDIATE);
    const s = judgeStep(r, r.tail_ms, { tailBoundMs: opt.tailBoundMs });
    say(`  ${s.passed ? 'kept up' : 'FELL BEHIND'}: ${s.reason}`);
    steps.push(s);
    const l = r.latency_scheduled_to_seen_confirmed;
    points.push({ rate, p50_ms: l.p50_ms, p95_ms: l.p95_ms, p99_ms: l.p99_ms });
    // Let a step that fell behind drain before the next one starts.
    if (!s.passed) await sleep(5000);
  }
  capacity = capacityOf(steps);
  result.capacity = { per_s: capacity, searched: true, steps };
  say(`capacity: ${capacity} bookings/s`);
} else if (capacity > 0) {
  result.capacity = { per_s: capacity, searched: false, steps: [] };
}

if (capacity > 0 && opt.latencyS > 0) {
  result.latency = [];
  for (const share of [25, 50, 80]) {
    const rate = Math.max(1, Math.round((capacity * share) / 100));
    say(`latency at ${share} % of capacity: ${rate} bookings/s for ${opt.latencyS} s (immediate path)`);
    const r = await phase(`latency-${share}`, rate, opt.latencyS, IMMEDIATE);
    result.latency.push(r);
    const l = r.latency_scheduled_to_seen_confirmed;
    points.push({ rate, p50_ms: l.p50_ms, p95_ms: l.p95_ms, p99_ms: l.p99_ms });
  }
}
if (capacity > 0 && opt.mixS > 0) {
  const rate = Math.max(1, Math.round(capacity / 2));
  say(`canonical mix at 50 % of capacity: ${rate} bookings/s for ${opt.mixS} s`);
  result.mix = await phase('mix-50', rate, opt.mixS, await canonicalMix(values.data));
  for (const [name, s] of Object.entries(result.mix.by_scenario ?? {}))
    say(
      `    ${name}: ${s.requests} requests, p50 ${s.latency_scheduled_to_seen_final.p50_ms} p95 ${s.latency_scheduled_to_seen_final.p95_ms} ms to the final state`,
    );
}
if (capacity > 0 && opt.instancesS > 0) {
  const rate = Math.max(1, Math.round(capacity * 0.8));
  say(`one provider-dispatch at 80 % of capacity: ${rate} bookings/s for ${opt.instancesS} s`);
  const one = await phase('instances-1', rate, opt.instancesS, IMMEDIATE);
  say('starting a second provider-dispatch instance in the same group');
  const child = await secondDispatch();
  try {
    await sleep(5000); // the group rebalances onto two members
    say(`two provider-dispatch instances: ${rate} bookings/s for ${opt.instancesS} s`);
    result.instances = { one, two: await phase('instances-2', rate, opt.instancesS, IMMEDIATE) };
  } finally {
    child.kill('SIGTERM');
    await sleep(3000);
  }
}
result.finished_at = new Date().toISOString();
await mkdir(dirname(values.out), { recursive: true });
await writeFile(values.out, `${JSON.stringify(result, null, 2)}\n`);
say(`wrote ${values.out}`);
if (values.doc) {
  const svgPath = join(dirname(values.doc), 'benchmark-latency.svg');
  if (points.length > 0) {
    await writeFile(
      svgPath,
      await latencyVsRateSvg(
        points.sort((a, b) => a.rate - b.rate),
        capacity,
      ),
    );
    say(`wrote ${svgPath}`);
  }
  const doc = await readFile(values.doc, 'utf8');
  await writeFile(
    values.doc,
    renderBenchDoc(doc, result, { svg: 'benchmark-latency.svg', resultsFile: values.out }),
  );
  say(`refreshed ${values.doc}`);
}
redis?.disconnect();
process.exit(0);
