#!/usr/bin/env node
// booking-bench: measures the brief's targets on the running stack (ARCHITECTURE.md, "Targets the
// design must leave room for") and writes results/bench.json. Nothing here is asserted by a test:
// a benchmark reports what it reached. docs/benchmark.md explains the method.
//
//   ./stack/stack.sh up --all && eval "$(./stack/stack.sh env)" && npm run -s bench
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  AvroSerde,
  appointmentIdFor,
  createKafka,
  createLogger,
  createProducer,
  createSchemaRegistry,
  topicNames,
} from '@booking/kit';
import { Partitioners } from 'kafkajs';
import { type CpuPerBooking, cpuPerBooking, sampleCpu } from './cpu.js';
import {
  type PipelineResult,
  pipelineResult,
  type RawResult,
  TERMINAL,
  type Trace,
  verdicts,
} from './measure.js';

const USAGE = `usage: booking-bench [options]   (the stack and services up: ./stack/stack.sh up --all)
  --raw N                 records for raw kafkajs produce -> consume (default 200000; 0 skips)
  --latency-rate R        bookings/s for the latency run (default 500)
  --latency-duration S    seconds (default 20; 0 skips)
  --rate R                bookings/s for the throughput run (default 2000)
  --duration S            seconds (default 60; 0 skips)
  --drain-timeout S       bound on waiting for the last booking to settle (default 300)
  --warmup S              seconds at 100 bookings/s first, not measured (default 5; 0 skips)
  --out FILE              (default results/bench.json)
env: KAFKA_BROKERS, SCHEMA_REGISTRY_URL, TOPIC_PREFIX`;

const { values } = parseArgs({
  options: {
    raw: { type: 'string', default: '200000' },
    'latency-rate': { type: 'string', default: '500' },
    'latency-duration': { type: 'string', default: '20' },
    rate: { type: 'string', default: '2000' },
    duration: { type: 'string', default: '60' },
    'drain-timeout': { type: 'string', default: '300' },
    warmup: { type: 'string', default: '5' },
    out: { type: 'string', default: 'results/bench.json' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const num = (name: keyof typeof values) => {
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n < 0) {
    process.stderr.write(`--${name}: a whole number, got ${values[name]}\n${USAGE}\n`);
    process.exit(2);
  }
  return n;
};
const rawCount = num('raw');
const latencyRate = num('latency-rate');
const latencyS = num('latency-duration');
const rate = num('rate');
const durationS = num('duration');
const drainMs = num('drain-timeout') * 1000;
const warmupS = num('warmup');

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const registryUrl = process.env.SCHEMA_REGISTRY_URL ?? 'http://127.0.0.1:8081/apis/ccompat/v7';
const topics = topicNames(process.env.TOPIC_PREFIX ?? '');
const runId = randomBytes(3).toString('hex');
const logger = createLogger({ service: 'bench', level: 'warn', fd: 2 });
const kafka = createKafka({ clientId: `booking-bench-${runId}`, brokers, logger });
const serde = new AvroSerde(createSchemaRegistry(registryUrl));
const say = (s: string) => process.stderr.write(`${s}\n`);
const STATE_DIR =
  process.env.STACK_STATE_DIR ?? join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '.stack');
function sayCpu(cpu: CpuPerBooking | undefined): void {
  if (!cpu) return;
  say(
    `  CPU per confirmed booking: services ${cpu.services_ms_per_booking} ms, all ${cpu.all_ms_per_booking} ms (${Object.entries(
      cpu.cpu_ms,
    )
      .map(([n, ms]) => `${n} ${ms}`)
      .join(', ')} ms)`,
  );
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, done: () => boolean, boundMs: number): Promise<boolean> {
  const end = Date.now() + boundMs;
  while (!done()) {
    if (Date.now() > end) {
      say(`  ${what}: bound of ${boundMs / 1000} s ran out`);
      return false;
    }
    await sleep(100);
  }
  return true;
}

/** Plain kafkajs through the same broker: the ceiling the pipeline is compared with. */
async function raw(n: number): Promise<RawResult> {
  const topic = `bench.raw.${runId}`;
  const partitions = 6;
  const bytes = 350; // about an AppointmentRequested record
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }],
    waitForLeaders: true,
  });
  const consumer = kafka.consumer({ groupId: `bench.raw.${runId}` });
  const producer = kafka.producer({
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  try {
    await Promise.all([consumer.connect(), producer.connect()]);
    await consumer.subscribe({ topic, fromBeginning: true });
    let consumed = 0;
    let lastAt = 0;
    await consumer.run({
      eachBatch: async ({ batch }) => {
        consumed += batch.messages.length;
        lastAt = Date.now();
      },
    });
    const value = Buffer.alloc(bytes, 120);
    const t0 = Date.now();
    const inFlight: Promise<unknown>[] = [];
    for (let i = 0; i < n; i += 1000) {
      const messages = Array.from({ length: Math.min(1000, n - i) }, (_, j) => ({
        key: String(i + j),
        value,
      }));
      inFlight.push(producer.send({ topic, acks: -1, messages }));
      if (inFlight.length >= 4) await inFlight.shift();
    }
    await Promise.all(inFlight);
    const producedAt = Date.now();
    await until('raw consume', () => consumed >= n, 120_000);
    return {
      records: n,
      bytes_per_record: bytes,
      partitions,
      produce_per_s: Math.round(n / ((producedAt - t0) / 1000)),
      produce_consume_per_s: Math.round(consumed / ((lastAt - t0) / 1000)),
    };
  } finally {
    await Promise.allSettled([consumer.disconnect(), producer.disconnect()]);
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  }
}

interface Lifecycle {
  appointmentId: string;
  to: string;
  at: number;
}

/**
 * Bookings for the immediate path published to the inbound topic at `perS` for `seconds`, as an
 * upstream producer would (docs/producers.md); acceptance and final state read from the lifecycle
 * topic, so the pipeline's own timestamps give the latency.
 */
async function pipeline(
  phase: string,
  perS: number,
  seconds: number,
): Promise<PipelineResult & { cpu?: CpuPerBooking }> {
  // Keys of their own per phase: a phase at the warm-up's rate used to replay the warm-up's keys.
  const source = `bench-${runId}-${phase}-${perS}`;
  const cpuBefore = sampleCpu(STATE_DIR);
  const traces = new Map<string, Trace>();
  const groupId = `bench.lifecycle.${source}`;
  // The group starts where the lifecycle topic ends now: its offsets are set before it first joins,
  // so nothing of this run can come before them and nothing older is read.
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topics.lifecycle);
    await admin.setOffsets({
      groupId,
      topic: topics.lifecycle,
      partitions: ends.map((o) => ({ partition: o.partition, offset: o.high })),
    });
  } finally {
    await admin.disconnect();
  }
  const consumer = kafka.consumer({ groupId });
  const producer = createProducer(kafka);
  await Promise.all([consumer.connect(), producer.connect()]);
  let settled = 0;
  try {
    await consumer.subscribe({ topic: topics.lifecycle });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          const key = m.key?.toString();
          const t = key ? traces.get(key) : undefined;
          if (!t) continue; // not this run's
          const { value } = await serde.decode<Lifecycle>(m.value);
          if (value.to === 'REQUESTED') t.acceptedAt = Number(value.at);
          else if (value.to === 'DISPATCHING') t.dispatchingAt ??= Number(value.at);
          else if (TERMINAL.has(value.to) && !t.terminal) {
            t.terminal = { state: value.to, at: Number(value.at) };
            t.seenAt = Date.now();
            settled++;
          }
        }
      },
    });
    const start = new Date(Math.floor((Date.now() + 30 * 86_400_000) / 3_600_000) * 3_600_000);
    const slot = {
      start: start.toISOString(),
      end: new Date(start.getTime() + 1_800_000).toISOString(),
      timezone: 'Europe/London',
    };
    const total = perS * seconds;
    let produced = 0;
    const t0 = Date.now();
    while (produced < total) {
      const due = Math.min(total, Math.floor(((Date.now() - t0) / 1000) * perS));
      if (due > produced) {
        const messages = [];
        for (let i = produced; i < due; i++) {
          const idempotencyKey = `${source}-${i}`;
          traces.set(appointmentIdFor(`kafka:${source}`, idempotencyKey), {
            sentAt: Date.now(),
            scheduledAt: t0 + Math.floor((i * 1000) / perS),
          });
          messages.push({
            key: `${source}:${idempotencyKey}`,
            value: await serde.encode(topics.inbound, {
              idempotencyKey,
              patient: { id: `pt-${i}`, name: 'Bench Patient', phone: null, email: null },
              calendarId: `cal-immediate-${source}-${i}`,
              slot,
              reason: null,
              deadline: Date.now() + 3_600_000,
              source,
            }),
            headers: { 'x-correlation-id': randomUUID() },
          });
        }
        await producer.send({ topic: topics.inbound, acks: -1, messages });
        produced = due;
      } else await sleep(10);
    }
    const produceMs = Date.now() - t0;
    say(`  produced ${produced} in ${(produceMs / 1000).toFixed(1)} s; waiting for final states`);
    await until('settling', () => settled >= produced, drainMs);
    const result = pipelineResult(
      { targetRate: perS, durationS: seconds, produced, produceMs },
      traces.values(),
    );
    const cpu = cpuPerBooking(cpuBefore, sampleCpu(STATE_DIR), result.confirmed);
    return Object.keys(cpu.cpu_ms).length > 0 ? { ...result, cpu } : result;
  } finally {
    await Promise.allSettled([consumer.disconnect(), producer.disconnect()]);
  }
}

const result: {
  run_id: string;
  started_at: string;
  machine: { cpus: number; node: string };
  raw?: RawResult;
  latency?: PipelineResult & { cpu?: CpuPerBooking };
  throughput?: PipelineResult & { cpu?: CpuPerBooking };
  verdicts?: ReturnType<typeof verdicts>;
} = {
  run_id: runId,
  started_at: new Date().toISOString(),
  machine: { cpus: availableParallelism(), node: process.version },
};
if (rawCount > 0) {
  say(`raw kafkajs: ${rawCount} records produce -> consume`);
  result.raw = await raw(rawCount);
  say(`  ${result.raw.produce_consume_per_s} records/s (produce alone ${result.raw.produce_per_s}/s)`);
}
if (warmupS > 0 && (latencyS > 0 || durationS > 0)) {
  // Freshly started services compile, connect and join first: not what a steady state costs.
  say(`warm-up: 100 bookings/s for ${warmupS} s (not measured)`);
  await pipeline('warmup', 100, warmupS);
}
if (latencyS > 0) {
  say(`latency: ${latencyRate} bookings/s for ${latencyS} s`);
  result.latency = await pipeline('latency', latencyRate, latencyS);
  const l = result.latency.latency_accepted_to_confirmed;
  say(`  accepted -> CONFIRMED p50 ${l.p50_ms} ms, p95 ${l.p95_ms} ms, p99 ${l.p99_ms} ms`);
  const o = result.latency.latency_scheduled_to_seen_confirmed;
  say(`  scheduled -> CONFIRMED seen (open loop) p50 ${o.p50_ms} ms, p95 ${o.p95_ms} ms, p99 ${o.p99_ms} ms`);
  for (const [stage, p] of Object.entries(result.latency.stages))
    say(`    ${stage}: p50 ${p.p50_ms} ms, p95 ${p.p95_ms} ms`);
  sayCpu(result.latency.cpu);
}
if (durationS > 0) {
  say(`throughput: ${rate} bookings/s for ${durationS} s`);
  result.throughput = await pipeline('throughput', rate, durationS);
  say(`  ${result.throughput.confirmed_per_s}/s confirmed, ${result.throughput.unfinished} unfinished`);
  sayCpu(result.throughput.cpu);
}
result.verdicts = verdicts(result);
await mkdir(dirname(values.out), { recursive: true });
await writeFile(values.out, `${JSON.stringify(result, null, 2)}\n`);
for (const v of result.verdicts) say(`${v.met ? 'MET    ' : 'NOT MET'}  ${v.target}: ${v.reached}`);
say(`wrote ${values.out}`);
process.exit(0);
