// The fuzz run (issue 12): hostile HTTP requests at intake and hostile records on every consumed
// topic, then the checks: no 5xx, every service healthy, every bad record accounted for (in a DLT
// with its reason, or in audit's trail as an alert), every consumer group's lag drained, no marker of
// personal data in any log.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type AvroSerde, createProducer, type Logger, laggingGroups, readTopic } from '@booking/kit';
import type { DeadLetter, SchemaName } from '@booking/schemas';
import fc from 'fast-check';
import { CompressionTypes, type Kafka } from 'kafkajs';
import { httpCase, MARKERS, oddHeaders, type RecordMaterial, recordValue, ruleCase } from './cases.js';
import { rawRequest } from './raw-http.js';

/** A consumed topic, its schema, and where its bad records must end up. */
export interface FuzzTopic {
  name: string;
  schema: SchemaName;
  /** `dlt:<topic>`: a dead letter naming the record; `audit`: an alert line in audit's trail. */
  lands: { dlt: string } | 'audit';
}

export interface FuzzTarget {
  intakeUrl: string;
  apiKey: string;
  kafka: Kafka;
  serde: AvroSerde;
  topics: FuzzTopic[];
  /** Valid values per schema (encoded by the caller, who knows the contracts' shapes). */
  material: (t: FuzzTopic) => Promise<RecordMaterial>;
  auditLogPath: string;
  health: Record<string, string>;
  groups: (groupId: string) => boolean;
  /** Files or folders of logs to scan for the markers. */
  logs: string[];
  logger: Logger;
}

export interface FuzzOptions {
  http: number;
  /** HTTP rule cases (issue 31), each checked against the answer it must get; default http / 5. */
  rules?: number;
  recordsPerTopic: number;
  seed: number;
  concurrency: number;
  settleBoundMs: number;
}

export interface FuzzResult {
  seed: number;
  http: { sent: number; byStatus: Record<string, number>; serverErrors: { kind: string; status: number }[] };
  /** The rule cases: how many of each kind, and every answer that was not the one the rule demands. */
  rules: {
    sent: number;
    byKind: Record<string, number>;
    violations: { kind: string; status: number | 'closed'; expected: number }[];
  };
  kafka: {
    topic: string;
    sent: number;
    accountedFor: number;
    byKind: Record<string, number>;
    /** The compression of the batches they went out in. */
    byCodec: Record<string, number>;
  }[];
  lost: { topic: string; partition: number; offset: string; kind: string }[];
  unhealthy: string[];
  lagging: string[];
  piiHits: { file: string; marker: string }[];
  passed: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function sendHttp(t: FuzzTarget, o: FuzzOptions, result: FuzzResult): Promise<void> {
  const cases = fc.sample(
    fc.nat({ max: 1_000_000 }).chain((i) => httpCase(t.apiKey, i)),
    { numRuns: o.http, seed: o.seed },
  );
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < cases.length; i = next++) {
      const c = cases[i]!;
      let status: number | 'client-refused';
      try {
        const res = await fetch(`${t.intakeUrl}${c.path}`, {
          method: c.method,
          headers: c.headers,
          ...(c.body !== undefined ? { body: c.body } : {}),
          signal: AbortSignal.timeout(15_000),
        });
        await res.arrayBuffer().catch(() => undefined);
        status = res.status;
      } catch {
        // fetch refuses some requests itself (a header with a control character): never sent.
        status = 'client-refused';
      }
      result.http.sent += status === 'client-refused' ? 0 : 1;
      result.http.byStatus[String(status)] = (result.http.byStatus[String(status)] ?? 0) + 1;
      if (typeof status === 'number' && status >= 500 && result.http.serverErrors.length < 50)
        result.http.serverErrors.push({ kind: c.kind, status });
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
}

async function sendRules(t: FuzzTarget, o: FuzzOptions, result: FuzzResult): Promise<void> {
  const host = new URL(t.intakeUrl).host;
  const cases = fc.sample(
    fc.nat({ max: 1_000_000 }).chain((i) => ruleCase(t.apiKey, i, host)),
    { numRuns: o.rules ?? Math.ceil(o.http / 5), seed: o.seed + 1 },
  );
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < cases.length; i = next++) {
      const c = cases[i]!;
      const answer = await rawRequest(t.intakeUrl, c.request, 15_000).catch(() => ({
        status: 'closed' as const,
      }));
      result.rules.sent++;
      const kind = c.kind.replace(/ (bearer|BEARER|Bearer|bEaReR)$/, ' (any case)');
      result.rules.byKind[kind] = (result.rules.byKind[kind] ?? 0) + 1;
      if (answer.status !== c.expect && result.rules.violations.length < 50)
        result.rules.violations.push({ kind: c.kind, status: answer.status, expected: c.expect });
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
}

/** Every codec a producer may use: each bad record goes out in a batch of one of them (issue 31). */
const CODECS = [
  ['none', CompressionTypes.None],
  ['gzip', CompressionTypes.GZIP],
  ['snappy', CompressionTypes.Snappy],
  ['lz4', CompressionTypes.LZ4],
  ['zstd', CompressionTypes.ZSTD],
] as const;

interface Sent {
  topic: string;
  partition: number;
  offset: string;
  kind: string;
}

async function sendRecords(t: FuzzTarget, o: FuzzOptions, result: FuzzResult): Promise<Sent[]> {
  const producer = createProducer(t.kafka);
  await producer.connect();
  const admin = t.kafka.admin();
  await admin.connect();
  const sent: Sent[] = [];
  try {
    for (const [n, topic] of t.topics.entries()) {
      const partitions = (await admin.fetchTopicOffsets(topic.name)).length;
      const material = await t.material(topic);
      const values = fc.sample(fc.tuple(recordValue(material), oddHeaders), {
        numRuns: o.recordsPerTopic,
        seed: o.seed + n,
      });
      const byKind: Record<string, number> = {};
      const byCodec: Record<string, number> = {};
      // One record per send: its offset is the one the broker answers with.
      let i = 0;
      const worker = async () => {
        for (let k = i++; k < values.length; k = i++) {
          const [{ kind, value }, headers] = values[k]!;
          const partition = k % partitions;
          const [codec, compression] = CODECS[k % CODECS.length]!;
          const [meta] = await producer.send({
            topic: topic.name,
            acks: -1,
            compression,
            messages: [{ key: `fz-${k}`, value, headers, partition }],
          });
          byKind[kind] = (byKind[kind] ?? 0) + 1;
          byCodec[codec] = (byCodec[codec] ?? 0) + 1;
          sent.push({ topic: topic.name, partition, offset: String(meta?.baseOffset), kind });
        }
      };
      await Promise.all(Array.from({ length: 8 }, worker));
      result.kafka.push({ topic: topic.name, sent: values.length, accountedFor: 0, byKind, byCodec });
    }
  } finally {
    await producer.disconnect();
    await admin.disconnect();
  }
  return sent;
}

/** Where each bad record was accounted for: dead letters by origin, and audit's alert lines. */
async function accountFor(t: FuzzTarget, sent: Sent[], result: FuzzResult): Promise<Sent[]> {
  const seen = new Set<string>();
  const dltTopics = [...new Set(t.topics.flatMap((x) => (x.lands === 'audit' ? [] : [x.lands.dlt])))];
  for (const dlt of dltTopics) {
    await readTopic(t.kafka, dlt, async (_k, value) => {
      if (!value) return;
      // The DLT topic is itself fuzzed: its own bad records are audit's to account for.
      const letter = await t.serde
        .decode<DeadLetter>(value, { topic: dlt, schema: 'DeadLetter' })
        .catch(() => null);
      const l = letter?.value;
      if (l?.reason) seen.add(`${l.originalTopic}/${l.originalPartition}/${l.originalOffset}`);
    });
  }
  if (existsSync(t.auditLogPath)) {
    for (const line of readFileSync(t.auditLogPath, 'utf8').split('\n')) {
      if (!line.includes('"ALERT"')) continue;
      const a = JSON.parse(line) as { topic?: string; partition?: number; offset?: string | number };
      if (a.topic !== undefined) seen.add(`${a.topic}/${a.partition}/${a.offset}`);
    }
  }
  const lost = sent.filter((s) => !seen.has(`${s.topic}/${s.partition}/${s.offset}`));
  for (const k of result.kafka)
    k.accountedFor = sent.filter(
      (s) => s.topic === k.topic && seen.has(`${s.topic}/${s.partition}/${s.offset}`),
    ).length;
  return lost;
}

async function problems(t: FuzzTarget): Promise<{ unhealthy: string[]; lagging: string[] }> {
  const unhealthy: string[] = [];
  for (const [name, url] of Object.entries(t.health)) {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) }).catch(() => undefined);
    if (res?.status !== 200) unhealthy.push(`${name} /healthz ${res?.status ?? 'no answer'}`);
  }
  const admin = t.kafka.admin();
  await admin.connect();
  const lagging = await laggingGroups(admin, t.groups).finally(() => admin.disconnect());
  return { unhealthy, lagging };
}

function logFiles(paths: string[]): string[] {
  const out: string[] = [];
  const walk = (p: string) => {
    if (!existsSync(p)) return;
    if (statSync(p).isDirectory()) for (const f of readdirSync(p)) walk(join(p, f));
    else if (/\.(log|jsonl|txt)$/.test(p)) out.push(p);
  };
  for (const p of paths) walk(p);
  return out;
}

export async function fuzz(t: FuzzTarget, o: FuzzOptions): Promise<FuzzResult> {
  const result: FuzzResult = {
    seed: o.seed,
    http: { sent: 0, byStatus: {}, serverErrors: [] },
    rules: { sent: 0, byKind: {}, violations: [] },
    kafka: [],
    lost: [],
    unhealthy: [],
    lagging: [],
    piiHits: [],
    passed: false,
  };
  await sendHttp(t, o, result);
  await sendRules(t, o, result);
  const sent = await sendRecords(t, o, result);
  // Settled: every group caught up and every bad record accounted for, or the bound passes.
  const deadline = Date.now() + o.settleBoundMs;
  for (;;) {
    const p = await problems(t);
    result.unhealthy = p.unhealthy;
    result.lagging = p.lagging;
    result.lost = await accountFor(t, sent, result);
    if ((p.lagging.length === 0 && result.lost.length === 0) || Date.now() > deadline) break;
    await sleep(2000);
  }
  result.lost = result.lost.slice(0, 100);
  for (const file of logFiles(t.logs)) {
    const text = readFileSync(file, 'utf8');
    for (const marker of Object.values(MARKERS))
      if (text.includes(marker)) result.piiHits.push({ file, marker });
  }
  result.passed =
    result.http.serverErrors.length === 0 &&
    result.rules.violations.length === 0 &&
    result.lost.length === 0 &&
    result.unhealthy.length === 0 &&
    result.lagging.length === 0 &&
    result.piiHits.length === 0;
  return result;
}
