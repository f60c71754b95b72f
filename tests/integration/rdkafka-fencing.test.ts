// Issue 28, the fencing the new transport rests on, on the real broker: KIP-447. Two instances of a
// consume→produce hop on @confluentinc/kafka-javascript, each with a transactional id of its own
// (per instance, not per partition), in one consumer group. Instance A writes a batch inside a
// transaction and is frozen (SIGSTOP) before it commits, past its session; B takes the partitions
// and handles the same records. A wakes and commits: sendOffsets carries A's old group generation,
// the group coordinator refuses it, A's transaction aborts, and a read_committed reader sees every
// input record exactly once and nothing A wrote as a zombie. kafkajs's sendOffsets carries no
// generation (TxnOffsetCommit v0-v2), which is why the kafkajs services need a producer per partition.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import rdkafka from '@confluentinc/kafka-javascript';
import { afterAll, describe, expect, it } from 'vitest';
import { createBareTopic, kafkaClient, stack, unique, waitFor } from '../support/helpers.js';

const HOP = join(dirname(fileURLToPath(import.meta.url)), '..', 'support', 'rdkafka-hop.mjs');
type Event = {
  event: string;
  name: string;
  partitions?: number[];
  offsets?: string[];
  error?: string;
  code?: number | null;
};

const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

function start(name: string, from: string, to: string, group: string, holdMs: number) {
  const child = spawn(process.execPath, [HOP, stack().kafkaBrokers, from, to, group, name], {
    env: { ...process.env, HOLD_MS: String(holdMs) },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  children.push(child);
  const events: Event[] = [];
  createInterface({ input: child.stdout! }).on('line', (l) => {
    try {
      events.push(JSON.parse(l) as Event);
    } catch {
      // not ours (librdkafka's own lines go to stderr)
    }
  });
  return { child, events };
}

describe('KIP-447 on @confluentinc/kafka-javascript', () => {
  it('an instance frozen past its session wakes, its commit is refused, and nothing it wrote is read', {
    timeout: 120_000,
  }, async () => {
    const from = unique('fence-in');
    const to = unique('fence-out');
    const group = unique('fence-group');
    const admin = kafkaClient().admin();
    await admin.connect();
    await createBareTopic(admin, from, 1);
    await createBareTopic(admin, to, 1);
    await admin.disconnect();
    const { Kafka } = rdkafka.KafkaJS;
    const kafka = new Kafka({
      kafkaJS: { brokers: stack().kafkaBrokers.split(','), logLevel: rdkafka.KafkaJS.logLevel.NOTHING },
    });
    const producer = kafka.producer({ kafkaJS: { acks: -1 } });
    await producer.connect();
    const n = 20;
    await producer.send({
      topic: from,
      messages: Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: `v${i}` })),
    });
    await producer.disconnect();

    // A holds its transaction open for 20 s after writing: long past its 6 s session.
    const a = start('A', from, to, group, 20_000);
    await waitFor('A wrote its batch', () => a.events.find((e) => e.event === 'wrote'), 60_000);
    a.child.kill('SIGSTOP');
    const b = start('B', from, to, group, 0);
    await waitFor(
      'B to own the partition',
      () => b.events.find((e) => e.event === 'assigned' && e.partitions?.length),
      60_000,
    );
    await waitFor(
      'B to commit every record',
      () => {
        const done = b.events.filter((e) => e.event === 'committed').flatMap((e) => e.offsets ?? []);
        return new Set(done).size >= n;
      },
      60_000,
    );
    a.child.kill('SIGCONT');
    const refused = await waitFor(
      'A told its commit was refused',
      () => a.events.find((e) => e.event === 'commit-failed'),
      60_000,
    );
    // Refused by the group coordinator for A's membership, not by a timeout: UNKNOWN_MEMBER_ID (25),
    // ILLEGAL_GENERATION (22) or FENCED_INSTANCE_ID (82). Seen here: 25, "Broker: Unknown member".
    expect([22, 25, 82]).toContain(refused.code);
    expect(a.events.some((e) => e.event === 'committed')).toBe(false);

    // What a read_committed reader sees: every input exactly once, all of it B's.
    const seen: string[] = [];
    const reader = kafka.consumer({
      kafkaJS: { groupId: `${group}.reader-${randomUUID().slice(0, 6)}`, fromBeginning: true },
      'isolation.level': 'read_committed',
    });
    await reader.connect();
    await reader.subscribe({ topic: to });
    await reader.run({ eachMessage: async ({ message }) => void seen.push(String(message.value)) });
    try {
      await waitFor('the reader to see every record', () => seen.length >= n, 30_000);
      // A last record after everything: once the reader has it, it has read all before it.
      const tail = kafka.producer({ kafkaJS: { acks: -1 } });
      await tail.connect();
      await tail.send({ topic: to, messages: [{ key: 'end', value: 'END:end' }] });
      await tail.disconnect();
      await waitFor('the reader to reach the end', () => seen.includes('END:end'), 30_000);
      seen.pop();
      expect(seen.filter((v) => v.startsWith('A:'))).toEqual([]);
      expect(new Set(seen.map((v) => v.split(':')[1])).size).toBe(n);
      expect(seen).toHaveLength(n);
    } finally {
      await reader.disconnect();
      b.child.stdin?.end();
    }
  });
});
