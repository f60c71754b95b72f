// Issue 12, poison-proof consumers, on the real stack: each hostile record on the inbound topic goes
// to the DLT with its reason and the partition keeps flowing (a valid record sent after it, on the
// same partition, books); an upstream's BACKWARD-compatible v2 still books.
import { randomUUID } from 'node:crypto';
import {
  AvroSerde,
  appointmentIdFor,
  createProducer,
  createSchemaRegistry,
  HEADERS,
  MAX_ELEMENTS,
} from '@booking/kit';
import { type DeadLetter, type InboundRequest, SCHEMAS } from '@booking/schemas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kafkaClient, stack, unique, waitFor } from '../support/helpers.js';
import { deadLetterFixture, type Pipeline, startPipeline } from '../support/pipeline.js';
import { inboundRecord } from '../support/upstream.js';

let p: Pipeline;
const kafka = kafkaClient();
const producer = createProducer(kafka);
let serde: AvroSerde;
const letters: DeadLetter[] = [];
const dltConsumer = kafka.consumer({ groupId: unique('dlt-reader') });
/** The inbound schema as an upstream evolved it: a new field with a default (BACKWARD-compatible). */
const V2 = {
  ...SCHEMAS.InboundRequest,
  fields: [
    ...SCHEMAS.InboundRequest.fields,
    { name: 'tags', type: { type: 'array', items: 'null' }, default: [] },
  ],
};

beforeAll(async () => {
  p = await startPipeline('hostile');
  serde = new AvroSerde(createSchemaRegistry(stack().schemaRegistryUrl));
  await producer.connect();
  await dltConsumer.connect();
  await dltConsumer.subscribe({ topic: p.topics.dlt, fromBeginning: true });
  await dltConsumer.run({
    eachMessage: async ({ message }) => {
      letters.push((await serde.decode<DeadLetter>(message.value)).value);
    },
  });
});
afterAll(async () => {
  await Promise.all([producer.disconnect(), dltConsumer.disconnect()]);
  await p?.stop();
});

const inbound = (): InboundRequest => inboundRecord('clinic-h');

/** Sends `bad` then a valid record with the same Kafka key (so the same partition): the valid one must book. */
async function badThenGood(bad: Buffer, headers: Record<string, string> = {}) {
  const key = `k-${randomUUID()}`;
  const good = inbound();
  await producer.send({
    topic: p.topics.inbound,
    acks: -1,
    messages: [
      { key, value: bad, headers: { [HEADERS.correlationId]: `c-${key}`, ...headers } },
      { key, value: await serde.encode(p.topics.inbound, good) },
    ],
  });
  await p.waitForState(appointmentIdFor('kafka:clinic-h', good.idempotencyKey), 'CONFIRMED', 30_000);
  return waitFor('its dead letter', () => letters.find((l) => l.correlationId === `c-${key}`), 20_000);
}

describe('hostile records on the inbound topic', () => {
  it("a record naming another subject's schema is dead-lettered, not decoded", async () => {
    const otherSubject = await serde.encode(p.topics.dlt, deadLetterFixture('a', null, p.topics.requested));
    const letter = await badThenGood(otherSubject);
    expect(letter.reason).toBe('DECODE_FAILED');
    expect(letter.errorMessage).toMatch(/is not registered under .*inbound.*-value/);
  });

  it('a tiny record announcing billions of elements is refused at once, and the partition flows', async () => {
    const id = await serde.register(p.topics.inbound, V2);
    const valid = await serde.encode(p.topics.inbound, { ...inbound(), tags: [] });
    // The empty array is the last byte (a 0 block); make it announce 2^31 nulls, then end the array.
    const huge = Buffer.concat([
      valid.subarray(0, valid.length - 1),
      Buffer.from([0x80, 0x80, 0x80, 0x80, 0x10, 0]),
    ]);
    expect(huge.readInt32BE(1)).toBe(id);
    const letter = await badThenGood(huge);
    expect(letter.reason).toBe('DECODE_FAILED');
    expect(letter.errorMessage).toMatch(new RegExp(`at most ${MAX_ELEMENTS}`));
  });

  it("an upstream's BACKWARD-compatible v2 record books", async () => {
    await serde.register(p.topics.inbound, V2);
    const r = inbound();
    await producer.send({
      topic: p.topics.inbound,
      acks: -1,
      messages: [
        { key: r.idempotencyKey, value: await serde.encode(p.topics.inbound, { ...r, tags: [null] }) },
      ],
    });
    await p.waitForState(appointmentIdFor('kafka:clinic-h', r.idempotencyKey), 'CONFIRMED', 30_000);
  });

  it('headers that are no numbers never break the dead letter, and a huge record is kept out of it', async () => {
    const invalid = await serde.encode(p.topics.inbound, {
      ...inbound(),
      tags: [],
      calendarId: 'not valid!',
    });
    const letter = await badThenGood(invalid, {
      [HEADERS.attempt]: '1.5',
      [HEADERS.originalOffset]: 'NaN',
      [HEADERS.originalPartition]: '99999999999',
      [HEADERS.deadline]: '1e400',
    });
    expect(letter.reason).toBe('VALIDATION_FAILED');
    expect(letter.attempts).toBe(1);

    const big = Buffer.concat([Buffer.from([0, 0, 0, 0, 1]), Buffer.alloc(900_000, 7)]);
    const bigLetter = await badThenGood(big);
    expect(bigLetter.reason).toBe('DECODE_FAILED');
    expect(bigLetter.originalValue).toBeNull();
    expect(bigLetter.errorMessage).toMatch(/not kept/);
  });
});
