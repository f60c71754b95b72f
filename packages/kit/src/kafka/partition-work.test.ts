import { describe, expect, it } from 'vitest';
import { type Commit, PartitionWork } from './partition-work.js';
import type { Encoded } from './transactional-sender.js';

const rec = (n: string): Encoded => ({ topic: 'out', key: n, value: Buffer.from(n) });
const tick = () => new Promise((r) => setImmediate(r));

/** A sender whose sends are settled by the test, in order. */
function fakeSender() {
  const sends: { records: string[]; commit: Commit | undefined; settle: (err?: Error) => void }[] = [];
  return {
    sends,
    send: (records: Encoded[], commit: Commit | undefined) =>
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
  it('sends outputs at once with the finished mark, batches what finishes meanwhile, and commits only past the finished prefix', async () => {
    const s = fakeSender();
    const w = new PartitionWork({ send: s.send, onBroken: () => undefined });
    for (const o of ['0', '1', '2']) w.begin(o);
    w.finish('1', [rec('b')]); // out of order: outputs go with "1 finished" in the metadata
    expect(s.sends.map((x) => [x.records, x.commit])).toEqual([[['b'], { offset: 0n, metadata: 'bk1:1' }]]);
    w.finish('0', [rec('a')]); // waits for the send in flight
    w.finish('2', []);
    expect(s.sends).toHaveLength(1);
    s.sends[0]!.settle();
    await tick();
    expect(s.sends.map((x) => [x.records, x.commit])).toEqual([
      [['b'], { offset: 0n, metadata: 'bk1:1' }],
      [['a'], { offset: 3n, metadata: null }],
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

  it('knows what the previous owner finished, and sends nothing for offsets passed while nothing moved', async () => {
    const s = fakeSender();
    const w = new PartitionWork({ send: s.send, onBroken: () => undefined, finishedBefore: new Set([7n]) });
    expect(w.finishedBefore('7')).toBe(true);
    expect(w.finishedBefore('6')).toBe(false);
    w.begin('6');
    w.advanceTo('9'); // 7, 8 not handed out: the position waits for 6
    expect(s.sends).toHaveLength(0);
    w.finish('6', []);
    expect(s.sends.map((x) => x.commit)).toEqual([{ offset: 9n, metadata: null }]);
    expect(w.has('8')).toBe(true);
  });

  it('starts at the committed position: a record below it is not handed out again, and no commit goes behind it', async () => {
    const s = fakeSender();
    const w = new PartitionWork({ send: s.send, onBroken: () => undefined, committedPosition: 100n });
    // kafkajs resolved its fetch position before the last commit landed and hands 98 over again.
    expect(w.has('98')).toBe(true);
    expect(w.has('99')).toBe(true);
    expect(w.has('100')).toBe(false);
    w.begin('100');
    w.finish('100', [rec('a')]);
    expect(s.sends.map((x) => x.commit)).toEqual([{ offset: 101n, metadata: null }]);
  });
});
