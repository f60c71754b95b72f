// docs/architecture.md, generated from the services' declarations (their topology.ts): the one
// picture of topics and services, and per service what each consumer reads, decides and writes.
// tests/integration/architecture.test.ts fails when the page is out of date.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { auditTopology } from '@booking/audit';
import { compensationTopology } from '@booking/compensation';
import { intakeTopology } from '@booking/intake';
import {
  type ConsumerTopology,
  DEFAULT_RETRY_DELAYS_MS,
  retryTopicNames,
  type ServiceTopology,
  TOPIC_NAMES,
  topicsRead,
} from '@booking/kit';
import { dispatchTopology } from '@booking/provider-dispatch';
import { reconcilerTopology } from '@booking/reconciler';

/** Where docs/architecture.md lives. */
export const ARCHITECTURE_PAGE = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'docs',
  'architecture.md',
);

const T = TOPIC_NAMES;
/** The default retry schedule (RETRY_DELAYS_MS, MAX_ATTEMPTS, RETRY_JITTER defaults). */
const RETRY = { delaysMs: DEFAULT_RETRY_DELAYS_MS, maxAttempts: 5, jitter: 0.2 };

/** Every service's topology with the default topics and retry schedule. */
export function topologies(): ServiceTopology<Record<string, ConsumerTopology>>[] {
  return [
    intakeTopology(T),
    dispatchTopology(T, RETRY),
    compensationTopology(T, RETRY),
    reconcilerTopology(T),
    auditTopology(T),
  ];
}

/** Retry topics of one source shown as one: `<source>.retry-*`. */
const shown = (topic: string) => topic.replace(/\.retry-[^.]+$/, '.retry-*');
const id = (s: string) => s.replace(/[^a-zA-Z0-9]/g, '_');

export interface TopicUse {
  topic: string;
  writers: string[];
  readers: string[];
}

/** Each topic with the services that write and read it (HTTP and external producers included). */
export function topicUse(all = topologies()): TopicUse[] {
  const use = new Map<string, TopicUse>();
  const at = (topic: string) => {
    const key = shown(topic);
    const u = use.get(key) ?? { topic: key, writers: [], readers: [] };
    use.set(key, u);
    return u;
  };
  const add = (list: string[], who: string) => list.includes(who) || list.push(who);
  add(at(T.inbound).writers, 'upstream producers');
  for (const s of all) {
    for (const [name, c] of Object.entries(s.consumers)) {
      for (const t of topicsRead(c)) add(at(t).readers, `${s.service} (${name})`);
      for (const t of c.writes) add(at(t).writers, s.service);
      if (c.retry) for (const t of retryTopicNames(c.reads, c.retry.delaysMs)) add(at(t).writers, s.service);
      if (c.deadLetters) add(at(c.deadLetters).writers, s.service);
    }
    for (const topics of Object.values(s.senders ?? {}))
      for (const t of topics) add(at(t).writers, s.service);
  }
  return [...use.values()].sort((a, b) => a.topic.localeCompare(b.topic));
}

function picture(all: ReturnType<typeof topologies>): string {
  const lines = ['```mermaid', 'flowchart LR'];
  lines.push('  upstream([upstream producers]) --> t_inbound');
  lines.push('  clients([HTTP clients]) -- "POST /v1/appointments" --> intake');
  const topicNodes = new Set<string>();
  const node = (t: string) => {
    const k = `t_${id(
      shown(t)
        .replace(/^appointments\./, '')
        .replace(/\.v1/, ''),
    )}`;
    if (!topicNodes.has(k)) {
      topicNodes.add(k);
      lines.push(`  ${k}[(${shown(t)})]`);
    }
    return k;
  };
  node(T.inbound);
  const edges = new Set<string>();
  const edge = (e: string) => {
    if (!edges.has(e)) {
      edges.add(e);
      lines.push(`  ${e}`);
    }
  };
  for (const s of all) {
    const svc = id(s.service);
    lines.push(`  ${svc}[${s.service}]`);
    for (const c of Object.values(s.consumers)) {
      for (const t of topicsRead(c)) edge(`${node(t)} --> ${svc}`);
      for (const t of c.writes) edge(`${svc} --> ${node(t)}`);
      if (c.retry) for (const t of retryTopicNames(c.reads, c.retry.delaysMs)) edge(`${svc} --> ${node(t)}`);
      if (c.deadLetters) edge(`${svc} -. dead letters .-> ${node(c.deadLetters)}`);
    }
    for (const topics of Object.values(s.senders ?? {}))
      for (const t of topics) edge(`${svc} --> ${node(t)}`);
  }
  lines.push('```');
  return lines.join('\n');
}

const list = (topics: readonly string[]) =>
  topics.length ? [...new Set(topics.map(shown))].map((t) => `\`${t}\``).join(', ') : '—';
/** Table cells: a `|` would end the cell. */
const cell = (text: string) => text.replace(/\|/g, '\\|');

export function renderArchitecture(all = topologies()): string {
  const out: string[] = [
    '# Architecture',
    '',
    "<!-- Generated from each service's src/topology.ts by `npm run -s docs:architecture`;",
    '     tests/integration/architecture.test.ts fails when this page is out of date. Do not edit. -->',
    '',
    'Five services talk only through Kafka topics (Avro values, key = appointment id). Each service',
    "declares its consumers in `services/<name>/src/topology.ts`; the kit's `buildService` turns the",
    'declaration into consumer runtimes, producers, `/healthz` and `/metrics`. A handler returns a',
    'decision (emit these records, retry for this reason, dead-letter for this reason); the kit builds',
    'the retry-topic and dead-letter records from it and refuses a record for a topic the consumer',
    'does not declare. Retry topics are shown as `<topic>.retry-*` (one per delay of',
    `\`RETRY_DELAYS_MS\`, by default ${DEFAULT_RETRY_DELAYS_MS.map((d) => `${d / 1000} s`).join(', ')}).`,
    '',
    picture(all),
    '',
  ];
  for (const s of all) {
    out.push(`## ${s.service}`, '');
    if (s.http) out.push(`HTTP: ${s.http}.`, '');
    out.push(
      '| consumer (group) | reads | handler decides | writes | retry | dead letters |',
      '|---|---|---|---|---|---|',
    );
    for (const [name, c] of Object.entries(s.consumers)) {
      const retry = c.retry
        ? `${c.retry.maxAttempts} attempts via \`${shown(retryTopicNames(c.reads, c.retry.delaysMs)[0] ?? '')}\``
        : '—';
      const dlt = c.deadLetters
        ? `\`${c.deadLetters}\`${c.poisonAlert ? ` + alert \`${c.poisonAlert}\`` : ''}`
        : `none: ${c.unreadable ?? 'skipped'}`;
      out.push(
        `| ${name} (\`<prefix>.${c.group}\`) | ${list(topicsRead(c))} (\`${c.schema}\`) | \`${c.handler}\`: ${cell(c.doc)} | ${list(c.writes)} | ${retry} | ${dlt} |`,
      );
    }
    for (const [sender, topics] of Object.entries(s.senders ?? {}))
      out.push(`| *${sender}* (no consumer) | — | outside a consumer | ${list(topics)} | — | — |`);
    out.push('');
  }
  out.push('## Topics', '', '| topic | written by | read by |', '|---|---|---|');
  for (const u of topicUse(all))
    out.push(
      `| \`${u.topic}\` | ${u.writers.join(', ') || '**nobody**'} | ${u.readers.join(', ') || '**nobody**'} |`,
    );
  out.push('');
  return out.join('\n');
}
