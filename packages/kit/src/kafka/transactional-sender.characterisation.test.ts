// Issue 28, step one: today's TransactionalSender pinned with a fake kafkajs producer, before the
// transport moves to librdkafka. Whatever replaces it must keep these outcomes for its callers:
// a send resolves only after its commit; a commit that went out unanswered is in doubt and, if the
// group's offsets show it committed, nothing is written again (if not, the records go again, once);
// a fencing by a newer producer fails the send and every later one until `settle()`; a superseded
// group never reaches the broker. The real-broker versions: tests/integration/transaction-in-doubt.test.ts.
import type { Kafka } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../logger.js';
import { fakeKafka } from './fake-kafka.js';
import type { AvroSerde } from './serde.js';
import {
  type ConsumedOffset,
  FencedError,
  OwnershipInDoubtError,
  TransactionalSender,
} from './transactional-sender.js';

const sender = (kafka: Kafka, extra: Partial<ConstructorParameters<typeof TransactionalSender>[0]> = {}) =>
  new TransactionalSender({
    kafka,
    transactionalId: 'tx-1',
    serde: {} as AvroSerde,
    logger: createLogger({ service: 'test', level: 'silent' }),
    name: 'test',
    attemptTimeoutMs: 2000,
    budgetMs: 10_000,
    ...extra,
  });
const rec = (v: string) => ({ topic: 'out', key: v, value: Buffer.from(v) });
const offset = (o: string): ConsumedOffset => ({ groupId: 'g', topic: 'in', partition: 1, offset: o });
const lostAnswer = () =>
  Object.assign(new Error('Closed connection'), { name: 'KafkaJSConnectionClosedError' });

describe('TransactionalSender as it is (characterisation)', () => {
  it('resolves after the commit, records and offsets in one transaction', async () => {
    const f = fakeKafka(() => undefined);
    const s = sender(f.kafka);
    await s.sendEncoded([rec('a'), rec('b')], [offset('5')]);
    expect(f.calls.map((c) => c.op)).toEqual(['connect', 'begin', 'sendBatch', 'sendOffsets', 'commit']);
    expect(f.committed.get('g|in|1')).toBe('5');
  });

  it('a commit whose answer was lost, found committed by its offsets: not written again', async () => {
    const f = fakeKafka((_p, op, n) => (op === 'commit' && n === 1 ? lostAnswer() : undefined));
    const s = sender(f.kafka);
    await s.sendEncoded([rec('a')], [offset('7')]);
    expect(f.calls.filter((c) => c.op === 'sendBatch')).toHaveLength(1);
    expect(s.inDoubtCommitted).toBe(1);
    // The failed producer was retired and a new one registered the id.
    expect(new Set(f.calls.filter((c) => c.op === 'connect').map((c) => c.producer)).size).toBe(2);
  });

  it('a transaction that failed before its commit is sent again on a new producer, once', async () => {
    const f = fakeKafka((_p, op, n) => (op === 'sendOffsets' && n === 1 ? lostAnswer() : undefined));
    const s = sender(f.kafka);
    await s.sendEncoded([rec('a')], [offset('9')]);
    const batches = f.calls.filter((c) => c.op === 'sendBatch');
    expect(batches.map((c) => c.producer)).toEqual([1, 2]);
    expect(s.inDoubtCommitted).toBe(0);
  });

  it('fenced by a newer producer: the send fails, and so does every later one until settle()', async () => {
    const fencing = Object.assign(new Error('fenced'), { type: 'PRODUCER_FENCED' });
    let fence = true;
    const f = fakeKafka((_p, op) => (op === 'commit' && fence ? fencing : undefined));
    const s = sender(f.kafka);
    await expect(s.sendEncoded([rec('a')])).rejects.toBeInstanceOf(FencedError);
    expect(s.isFenced).toBe(true);
    await expect(s.sendEncoded([rec('b')])).rejects.toBeInstanceOf(FencedError);
    fence = false;
    await s.settle();
    await s.sendEncoded([rec('c')]);
    expect(s.isFenced).toBe(false);
  });

  it('a group superseded while it waited never reaches the broker; the one already in a transaction commits', async () => {
    const f = fakeKafka(() => undefined);
    const s = sender(f.kafka);
    await s.start();
    const first = s.sendEncoded([rec('a')]);
    const second = s.sendEncoded([rec('b')]);
    s.supersede();
    const results = await Promise.allSettled([first, second]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(OwnershipInDoubtError);
    expect(f.calls.filter((c) => c.op === 'sendBatch')).toHaveLength(1);
  });
});
