// Smoke test of the real stack: register a schema, produce an Avro record, consume and decode it.
import { createProducer, HEADERS, headerValue, newTraceparent, subjectOf } from '@booking/kit';
import { type InboundRequest, SCHEMAS } from '@booking/schemas';
import type { KafkaMessage } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestTopic, kafkaClient, serde, stack, unique, waitFor } from '../support/helpers.js';

const request: InboundRequest = {
  idempotencyKey: 'smoke-key-0001',
  patient: { id: 'p-1', name: 'Grace Hopper', phone: '+15550100', email: 'grace@example.org' },
  calendarId: 'cal-immediate-smoke',
  slot: { start: '2031-03-01T09:00:00+00:00', end: '2031-03-01T09:30:00+00:00', timezone: 'Europe/London' },
  reason: null,
  deadline: 1_950_000_000_000,
  source: 'smoke',
};

describe('Avro through the real registry and broker', () => {
  const kafka = kafkaClient();
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanups) await c();
  });

  it('registers, produces, consumes and decodes one record', async () => {
    const topic = await createTestTopic(kafka, 'InboundRequest');
    const avro = serde();
    const id = await avro.register(topic.name, SCHEMAS.InboundRequest);
    expect(id).toBeGreaterThan(0);

    const registered = await fetch(
      `${stack().schemaRegistryUrl}/subjects/${subjectOf(topic.name)}/versions/latest`,
    );
    expect(registered.status).toBe(200);
    expect(await registered.json()).toMatchObject({ subject: subjectOf(topic.name), id, version: 1 });

    const producer = createProducer(kafka);
    await producer.connect();
    cleanups.push(() => producer.disconnect());
    const traceparent = newTraceparent();
    const value = await avro.encode(topic.name, request);
    expect(value[0]).toBe(0); // Confluent wire format: magic byte, then the schema id
    expect(value.readInt32BE(1)).toBe(id);
    await producer.send({
      topic: topic.name,
      acks: -1,
      messages: [{ key: 'apt-smoke', value, headers: { [HEADERS.traceparent]: traceparent } }],
    });

    const consumer = kafka.consumer({ groupId: unique('group') });
    await consumer.connect();
    cleanups.push(() => consumer.disconnect());
    await consumer.subscribe({ topic: topic.name, fromBeginning: true });
    const received: KafkaMessage[] = [];
    await consumer.run({
      eachMessage: async ({ message }) => {
        received.push(message);
      },
    });
    const [message] = await waitFor('the produced record', () => (received.length > 0 ? received : null));

    const decoded = await serde().decode<InboundRequest>(message!.value);
    expect(decoded.schemaId).toBe(id);
    expect(decoded.value).toEqual(request);
    expect(message!.key?.toString()).toBe('apt-smoke');
    expect(headerValue(message!.headers, HEADERS.traceparent)).toBe(traceparent);
  });
});
