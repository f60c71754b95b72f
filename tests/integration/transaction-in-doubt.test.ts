// Issue 14: a transaction whose commit was asked for and not answered (a broker killed mid-EndTxn)
// is in doubt: the coordinator may have committed it. Sending its records again blindly wrote them
// twice (the chaos run's broker kill: 7 appointments with two terminal events). The sender now lets
// the next producer's registration finish that transaction, then reads its receipt (the consumed
// offsets it carried, or a receipt offset under `_receipts.<id>`) and sends again only if it was not
// committed. On the real broker: the producer and its commits are kafkajs's own; only the answer to
// the first EndTxn is lost (thrown after it landed) or the request is dropped (thrown before).
import { randomUUID } from 'node:crypto';
import {
  createKafka,
  createLogger,
  FencedError,
  OwnershipInDoubtError,
  readTopic,
  TransactionalSender,
} from '@booking/kit';
import type { Admin, Kafka, Producer, Transaction } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBareTopic, stack } from '../support/helpers.js';

const logger = createLogger({ service: 'tx-in-doubt', level: 'error' });
let kafka: Kafka;
let admin: Admin;

beforeAll(async () => {
  kafka = createKafka({
    clientId: `it.doubt.${randomUUID().slice(0, 8)}`,
    brokers: stack().kafkaBrokers.split(','),
    logger,
  });
  admin = kafka.admin();
  await admin.connect();
});
afterAll(async () => {
  await admin?.disconnect();
});

/** The real client, each transaction it begins passed through `alter` (its own calls kept). */
function withTransactions(real: Kafka, alter: (tx: Transaction) => void): Kafka {
  const wrapped = Object.create(real) as Kafka;
  wrapped.producer = (config) => {
    const producer = real.producer(config);
    const transaction = producer.transaction.bind(producer);
    producer.transaction = async () => {
      const tx = await transaction();
      alter(tx);
      return tx;
    };
    return producer as Producer;
  };
  return wrapped;
}

/** The real client, with the first transaction's commit answered by an error: after it landed, or instead of it. */
function losingFirstCommitAnswer(real: Kafka, when: 'after-commit' | 'instead-of-commit') {
  let lost = 0;
  const kafka = withTransactions(real, (tx) => {
    const commit = tx.commit.bind(tx);
    tx.commit = async () => {
      if (lost > 0) return commit();
      lost++;
      if (when === 'after-commit') await commit();
      throw new Error(`the answer to EndTxn was lost (${when})`);
    };
  });
  return { kafka, lost: () => lost };
}

async function freshTopic(): Promise<string> {
  const topic = `it.doubt.${randomUUID().slice(0, 8)}`;
  await createBareTopic(admin, topic, 3);
  return topic;
}

async function valuesOf(topic: string): Promise<string[]> {
  const out: string[] = [];
  await readTopic(kafka, topic, (_k, v) => {
    out.push(String(v));
  });
  return out.sort();
}

async function sendOnce(
  when: 'after-commit' | 'instead-of-commit',
  withOffsets: boolean,
): Promise<{ sender: TransactionalSender; topic: string; groupId: string; lost: number }> {
  const topic = await freshTopic();
  const groupId = `it.doubt.g.${topic}`;
  const faulty = losingFirstCommitAnswer(kafka, when);
  const sender = new TransactionalSender({
    kafka: faulty.kafka,
    transactionalId: `it.doubt.${randomUUID()}`,
    serde: undefined as never,
    logger,
    name: 'doubt',
  });
  try {
    await sender.start();
    await sender.sendEncoded(
      [
        { topic, key: 'a', value: Buffer.from('one') },
        { topic, key: 'b', value: Buffer.from('two') },
      ],
      withOffsets ? [{ groupId, topic, partition: 1, offset: '42', metadata: 'm' }] : [],
    );
  } finally {
    await sender.stop();
  }
  return { sender, topic, groupId, lost: faulty.lost() };
}

describe('a transaction in doubt (commit sent, answer lost)', () => {
  it('committed, with consumed offsets: found committed by its offsets and not written again', {
    timeout: 60_000,
  }, async () => {
    const r = await sendOnce('after-commit', true);
    expect(r.lost).toBe(1);
    expect(r.sender.inDoubtCommitted).toBe(1);
    expect(await valuesOf(r.topic)).toEqual(['one', 'two']);
    const [t] = await admin.fetchOffsets({ groupId: r.groupId, topics: [r.topic] });
    expect(t?.partitions.find((p) => p.partition === 1)?.offset).toBe('42');
  });

  it('committed, without offsets: found committed by its receipt and not written again', {
    timeout: 60_000,
  }, async () => {
    const r = await sendOnce('after-commit', false);
    expect(r.lost).toBe(1);
    expect(r.sender.inDoubtCommitted).toBe(1);
    expect(await valuesOf(r.topic)).toEqual(['one', 'two']);
  });

  it('not committed (the request never reached the broker): aborted by the registration, sent again once', {
    timeout: 60_000,
  }, async () => {
    for (const withOffsets of [true, false]) {
      const r = await sendOnce('instead-of-commit', withOffsets);
      expect(r.lost).toBe(1);
      expect(r.sender.inDoubtCommitted).toBe(0);
      expect(await valuesOf(r.topic)).toEqual(['one', 'two']);
    }
  });
});

describe('a zombie sender (its owner may have lost the partition)', () => {
  it('does not register its id again after a failure: the rightful owner is not fenced, the stale records not written', {
    timeout: 60_000,
  }, async () => {
    const topic = await freshTopic();
    const transactionalId = `it.zombie.${randomUUID()}`;
    // The zombie's first transaction fails before the broker sees it (a connection lost on waking).
    let failed = 0;
    const wrapped = withTransactions(kafka, (tx) => {
      const sendBatch = tx.sendBatch.bind(tx);
      tx.sendBatch = async (batch) => {
        if (failed++ === 0) throw new Error('Connection error: read ECONNRESET');
        return sendBatch(batch);
      };
    });
    const zombie = new TransactionalSender({
      kafka: wrapped,
      transactionalId,
      serde: undefined as never,
      logger,
      name: 'zombie',
      mayRegister: () => false,
      // It waits for its owner to be confirmed for at most its budget, then gives the group up.
      budgetMs: 2000,
    });
    const owner = new TransactionalSender({
      kafka,
      transactionalId,
      serde: undefined as never,
      logger,
      name: 'owner',
    });
    try {
      await zombie.start();
      await owner.start(); // the group gave the partition to another member: a newer epoch
      const stale = zombie.sendEncoded([{ topic, key: 'a', value: Buffer.from('stale') }]);
      await expect(stale).rejects.toBeInstanceOf(OwnershipInDoubtError);
      await owner.sendEncoded([{ topic, key: 'a', value: Buffer.from('fresh') }]);
      expect(owner.isFenced).toBe(false);
      expect(await valuesOf(topic)).toEqual(['fresh']);
    } finally {
      await zombie.stop();
      await owner.stop();
    }
  });
});

describe("a sender whose id is its process's alone (exclusiveId)", () => {
  // After a broker restart a retired producer's registration can land after its successor's, which
  // it then fences: the sender is fenced by its own ghost. A partition's sender waits for its owner
  // to settle it; one whose id nobody else holds (intake's HTTP sender, an upstream producer) used to
  // fail every send from then on (stop 28: the chaos upstream producer after a kill-broker).
  it('registers anew and commits after its own earlier producer fenced it; without the option it stays fenced', {
    timeout: 60_000,
  }, async () => {
    for (const exclusiveId of [true, false]) {
      const topic = await freshTopic();
      const transactionalId = `it.own-ghost.${randomUUID()}`;
      const sender = new TransactionalSender({
        kafka,
        transactionalId,
        serde: undefined as never,
        logger,
        name: 'own-ghost',
        exclusiveId,
        budgetMs: 10_000,
      });
      const ghost = kafka.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1 });
      try {
        await sender.start();
        await sender.sendEncoded([{ topic, key: 'a', value: Buffer.from('first') }]); // registered
        await ghost.connect();
        await (await ghost.transaction()).abort(); // the late registration: a newer epoch than the sender's
        const sent = sender.sendEncoded([{ topic, key: 'a', value: Buffer.from('kept') }]);
        if (exclusiveId) {
          await sent;
          expect(sender.selfFenced).toBe(1);
          expect(sender.isFenced).toBe(false);
          expect(await valuesOf(topic)).toEqual(['first', 'kept']);
        } else {
          await expect(sent).rejects.toBeInstanceOf(FencedError);
          expect(sender.isFenced).toBe(true);
          expect(await valuesOf(topic)).toEqual(['first']);
        }
      } finally {
        await ghost.disconnect();
        await sender.stop();
      }
    }
  });
});
