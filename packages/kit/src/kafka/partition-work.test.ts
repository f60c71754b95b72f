import { describe, expect, it } from 'vitest';
import { PartitionWork } from './partition-work.js';
import type { Encoded } from './transactional-sender.js';

const rec = (n: string): Encoded => ({ topic: 'out', key: n, value: Buffer.from(n) });
const tick = () => new Promise((r) => setImmediate(r));

/** A sender whose sends are settled by the test, in order. */
function fakeSender() {
  const sends: { records: string[]; commit: bigint | undefined; settle: (err?: Error) => void }[] = [];
  return {
    sends,
    send: (records: Encoded[], commit: bigint | undefined) =>
      new Promise<void>((resolve, reject) => {
        sends.push({
          records: records.map((r) => r.key ?? ''),
          commit,
          settle: (err) => (err ? reject(err) : resolve()),
        });
      }),
  };
}

describe('PartitionWork', () => {
  it('sends outputs at once, batches what finishes meanwhile, and commits only past the finished prefix', async () => {
    const s = fakeSender();
    const w = new PartitionWork({ send: s.send, onBroken: () => undefined });
    for (const o of ['0', '1', '2']) w.begin(o);
    w.finish('1', [rec('b')]); // out of order: outputs go, no offset yet
    expect(s.sends.map((x) => [x.records, x.commit])).toEqual([[['b'], undefined]]);
    w.finish('0', [rec('a')]); // waits for the send in flight
    w.finish('2', []);
    expect(s.sends).toHaveLength(1);
    s.sends[0]!.settle();
    await tick();
    expect(s.sends.map((x) => [x.records, x.commit])).toEqual([
      [['b'], undefined],
      [['a'], 3n],
    ]);
    s.sends[1]!.settle();
    await w.settled();
    expect(w.inFlight).toBe(0);
  });

  it('a failed send breaks the partition: what waited is dropped, nothing more is sent, the owner is told once', async () => {
    const s = fakeSender();
    const broken: unknown[] = [];
    const w = new PartitionWork({ send: s.send, onBroken: (e) => broken.push(e) });
    for (const o of ['0', '1', '2']) w.begin(o);
    w.finish('0', [rec('a')]);
    w.finish('1', [rec('b')]);
    s.sends[0]!.settle(new Error('fenced'));
    await tick();
    w.finish('2', [rec('c')]);
    await tick();
    expect(s.sends).toHaveLength(1);
    expect(broken).toHaveLength(1);
    expect(w.live).toBe(false);
  });

  it('an abandoned partition drops late results', async () => {
    const s = fakeSender();
    const w = new PartitionWork({ send: s.send, onBroken: () => undefined });
    w.begin('5');
    w.abandon();
    w.finish('5', [rec('x')]);
    expect(s.sends).toHaveLength(0);
  });
});
