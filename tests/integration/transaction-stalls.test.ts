// Issue 13: no transaction stall of hundreds of ms. A transaction begun while the coordinator still
// writes the previous one's markers is answered CONCURRENT_TRANSACTIONS and kafkajs retries it; with
// its default back-off each retry waited about 300 ms. The services' producers use TRANSACTION_RETRY
// (20 ms, never over 50 ms). Asserted on what kafkajs logs (the wait it announces), not on a clock.
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { createKafka, createLogger, TRANSACTION_RETRY, TransactionalSender } from '@booking/kit';
import type { RetryOptions } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBareTopic, stack } from '../support/helpers.js';
import { type Pipeline, requestBody, startPipeline } from '../support/pipeline.js';

const CONCURRENT = /concurrent operation on the same transaction|CONCURRENT_TRANSACTIONS/;
type Line = { msg?: string; retryTime?: number; error?: string };
const waitsOf = (lines: Line[]) =>
  lines
    .filter((l) => CONCURRENT.test(`${l.msg ?? ''} ${l.error ?? ''}`))
    .map((l) => Number(l.retryTime ?? 0));

/** Sequential one-record transactions, each with a consumed offset: the retries kafkajs logged. */
async function sequentialTransactions(
  retry: RetryOptions | undefined,
  count: number,
  until: (waits: number[]) => boolean = () => false,
): Promise<number[]> {
  const lines: Line[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l) as Line);
      done();
    },
  });
  const logger = createLogger({ service: 'tx-stalls', level: 'warn', destination });
  const kafka = createKafka({
    clientId: `it.tx.${randomUUID().slice(0, 8)}`,
    brokers: stack().kafkaBrokers.split(','),
    logger,
    ...(retry ? { retry } : {}),
  });
  const admin = kafka.admin();
  await admin.connect();
  const topic = `it.tx-stalls.${randomUUID().slice(0, 8)}`;
  await createBareTopic(admin, topic, 6);
  const sender = new TransactionalSender({
    kafka,
    transactionalId: `it.tx-stalls.${randomUUID()}`,
    serde: undefined as never,
    logger,
    name: 'stalls',
  });
  try {
    await sender.start();
    for (let n = 0; n < count && !until(waitsOf(lines)); n++) {
      await sender.sendEncoded(
        [{ topic, key: `k${n}`, value: Buffer.from('x') }],
        [{ groupId: `it.tx-stalls.g.${topic}`, topic, partition: n % 6, offset: String(n + 1) }],
      );
    }
  } finally {
    await sender.stop();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  }
  return waitsOf(lines);
}

describe('transaction stalls', () => {
  it("kafkajs's default back-off waits about 300 ms on CONCURRENT_TRANSACTIONS (what the check below catches)", {
    timeout: 120_000,
  }, async () => {
    // Up to 300 transactions, until one such retry shows (most runs: within the first ten).
    const waits = await sequentialTransactions(undefined, 300, (w) => w.some((x) => x > 50));
    expect(waits.some((w) => w > 50)).toBe(true);
  });

  it('with TRANSACTION_RETRY no such retry waits over 50 ms', { timeout: 120_000 }, async () => {
    const waits = await sequentialTransactions(TRANSACTION_RETRY, 100);
    expect(waits.filter((w) => w > 50)).toEqual([]);
  });

  describe('in the running pipeline', () => {
    let p: Pipeline;
    beforeAll(async () => {
      p = await startPipeline('tx-stalls');
    });
    afterAll(async () => p?.stop());

    it('no service logs a CONCURRENT_TRANSACTIONS retry waiting over 50 ms', {
      timeout: 120_000,
    }, async () => {
      const ids: string[] = [];
      for (let n = 0; n < 40; n++) {
        const res = await p.submit(
          requestBody(`cal-immediate-${randomUUID().slice(0, 6)}`),
          `key-${randomUUID()}`,
        );
        expect(res.status).toBe(202);
        ids.push(((await res.json()) as { appointmentId: string }).appointmentId);
      }
      for (const id of ids) await p.waitForState(id, 'CONFIRMED');
      const lines = Object.values(p.logs).flat() as Line[];
      expect(waitsOf(lines).filter((w) => w > 50)).toEqual([]);
    });
  });
});
