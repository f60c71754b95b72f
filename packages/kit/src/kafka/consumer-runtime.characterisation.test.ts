// Issue 28, step one: today's ConsumerRuntime pinned with a fake kafkajs consumer and producers, before
// it is rewritten on librdkafka. Whatever replaces it must keep these outcomes: a rejoin as the same
// member keeps the partition's open work (what finishes commits, what kafkajs hands over again is not
// handled twice); a rejoin as a new member (dropped meanwhile: a zombie) drops every open work, reads
// the partitions again from their committed positions, and nothing the old work finishes commits.
import { describe, expect, it } from 'vitest';
import { createLogger } from '../logger.js';
import { ConsumerRuntime } from './consumer-runtime.js';
import { type FakeConsumer, fakeKafka } from './fake-kafka.js';
import type { AvroSerde } from './serde.js';

const serde = {
  decode: async (buf: Buffer | null) => ({ value: JSON.parse(String(buf)), schemaId: 1 }),
} as unknown as AvroSerde;

/** A handler whose calls are counted and which, for the values named, waits until released. */
function gatedHandler(held: string[]) {
  const calls: string[] = [];
  const gates = new Map<string, () => void>();
  const returned: string[] = [];
  const handle = async (r: { value: unknown }) => {
    const v = String(r.value);
    calls.push(v);
    // Only a value's first call waits: a second handling of it (read again) goes straight through.
    if (held.includes(v) && calls.filter((c) => c === v).length === 1)
      await new Promise<void>((resolve) => gates.set(v, resolve));
    returned.push(v);
    return [];
  };
  return { calls, returned, handle, release: (v: string) => gates.get(v)?.() };
}

async function until(what: string, ok: () => boolean, boundMs = 5000) {
  const end = Date.now() + boundMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function runtime(held: string[]) {
  const f = fakeKafka();
  const h = gatedHandler(held);
  const rt = new ConsumerRuntime<unknown>({
    name: 'char',
    kafka: f.kafka,
    groupId: 'g',
    topics: ['in'],
    schema: 'AppointmentRequested',
    serde,
    logger: createLogger({ service: 'test', level: 'silent' }),
    handle: h.handle as never,
    onPoison: () => [],
    retryBackoffMs: 10,
  });
  return { f, h, rt, consumer: () => f.consumers[0] as FakeConsumer };
}

const committedOf = (f: ReturnType<typeof fakeKafka>) => f.committed.get('g|in|0');

describe('ConsumerRuntime as it is (characterisation)', () => {
  it('commits each partition up to the first record still open, in one transaction per commit', async () => {
    const { f, h, rt, consumer } = runtime(['b']);
    await rt.start();
    consumer().join('m1', { in: [0] });
    await consumer().deliver('in', 0, 0, ['a', 'b', 'c']);
    await until('a and c handled', () => h.calls.includes('a') && h.calls.includes('c'));
    await until('a committed', () => committedOf(f) === '1');
    h.release('b');
    await until('all committed', () => committedOf(f) === '3');
    await rt.stop(2000);
  });

  it('a rejoin as the same member keeps the open work: it commits, and records handed over again are not handled twice', async () => {
    const { f, h, rt, consumer } = runtime(['b']);
    await rt.start();
    consumer().join('m1', { in: [0] });
    await consumer().deliver('in', 0, 0, ['a', 'b', 'c']);
    await until('b in its handler', () => h.calls.includes('b'));
    consumer().join('m1', { in: [0] });
    await consumer().deliver('in', 0, 0, ['a', 'b', 'c']);
    h.release('b');
    await until('all committed', () => committedOf(f) === '3');
    expect(h.calls.filter((v) => v === 'b')).toHaveLength(1);
    expect(h.calls.filter((v) => v === 'a')).toHaveLength(1);
    await rt.stop(2000);
  });

  it('a rejoin as a new member drops the open work, seeks to the committed position, and the old work commits nothing', {
    timeout: 20_000,
  }, async () => {
    const { f, h, rt, consumer } = runtime(['b']);
    await rt.start();
    consumer().join('m1', { in: [0] });
    await consumer().deliver('in', 0, 0, ['a', 'b', 'c']);
    await until('a committed, b in its handler', () => committedOf(f) === '1' && h.calls.includes('b'));
    consumer().join('m2', { in: [0] });
    await until('a seek to the committed position', () =>
      consumer().seeks.some((s) => s.topic === 'in' && s.partition === 0 && s.offset === '1'),
    );
    // Read again from the committed position. The new b waits behind the dropped call of b: the
    // key's slot is held until that call returns (today's behaviour; the call is not cancelled).
    await consumer().deliver('in', 0, 1, ['b', 'c']);
    await until('c handled again by the new work', () => h.calls.filter((v) => v === 'c').length === 2);
    expect(committedOf(f)).toBe('1');
    h.release('b');
    await until('b and c committed by the new work', () => committedOf(f) === '3');
    expect(h.calls.filter((v) => v === 'b')).toHaveLength(2);
    // The dropped call's outcome never committed: the group's offset only ever moved forward.
    const mine = f.history.filter((x) => x.startsWith('g|in|0=')).map((x) => Number(x.split('=')[1]));
    expect(mine).toEqual([...mine].sort((x, y) => x - y));
    await rt.stop(2000);
  });
});
