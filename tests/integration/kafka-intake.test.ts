// Upstream producers on appointments.inbound.v1: duplicates make one appointment; poison records
// go to the DLT with their reason while valid records on the same partition still complete.
import { randomUUID } from 'node:crypto';
import {
  AvroSerde,
  appointmentIdFor,
  createProducer,
  createSchemaRegistry,
  HEADERS,
  lifecycleEvent,
  safeKey,
} from '@booking/kit';
import type { AppointmentRequested, DeadLetter, InboundRequest } from '@booking/schemas';
import type { KafkaMessage } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kafkaClient, stack, unique, waitFor } from '../support/helpers.js';
import { type Pipeline, requestBody, startPipeline } from '../support/pipeline.js';

let p: Pipeline;
const kafka = kafkaClient();
const producer = createProducer(kafka);
let serde: AvroSerde;
const dlt: { message: KafkaMessage; value: DeadLetter }[] = [];
const dltConsumer = kafka.consumer({ groupId: unique('dlt-reader') });

beforeAll(async () => {
  p = await startPipeline('kafka-intake');
  serde = new AvroSerde(createSchemaRegistry(stack().schemaRegistryUrl));
  await producer.connect();
  await dltConsumer.connect();
  await dltConsumer.subscribe({ topic: p.topics.dlt, fromBeginning: true });
  await dltConsumer.run({
    eachMessage: async ({ message }) => {
      dlt.push({ message, value: (await serde.decode<DeadLetter>(message.value)).value });
    },
  });
});
afterAll(async () => {
  await Promise.all([producer.disconnect(), dltConsumer.disconnect()]);
  await p?.stop();
});

function inbound(calendarId: string, source = 'clinic-a'): InboundRequest {
  const b = requestBody(calendarId);
  return {
    idempotencyKey: `kafka-key-${randomUUID()}`,
    patient: { id: b.patient.id, name: b.patient.name, phone: b.patient.phone, email: b.patient.email },
    calendarId,
    slot: b.slot,
    reason: null,
    deadline: null,
    source,
  };
}

async function send(key: string, value: Buffer) {
  await producer.send({
    topic: p.topics.inbound,
    acks: -1,
    messages: [{ key, value, headers: { [HEADERS.correlationId]: `corr-${key}` } }],
  });
}

describe('Kafka intake', () => {
  it('the same inbound record delivered twice makes one appointment and one booking', async () => {
    const record = inbound(`cal-immediate-${randomUUID().slice(0, 8)}`);
    const bytes = await serde.encode(p.topics.inbound, record);
    await send('dup', bytes);
    await send('dup', bytes);
    const id = appointmentIdFor(`kafka:${record.source}`, record.idempotencyKey);
    const view = await p.waitForState(id, 'CONFIRMED');
    expect(view.history.filter((h) => h.to === 'REQUESTED')).toHaveLength(1);
    await waitFor('the duplicate to be recognised', async () =>
      /booking_idempotency_hits_total\{[^}]*channel="kafka"[^}]*outcome="duplicate"[^}]*\} 1/.test(
        await p.intakeMetrics(),
      ),
    );
    expect(await p.ledger(id)).toHaveLength(1);

    // Upstream systems find it by their own key.
    const byKey = await p.api(
      `/v1/appointments?idempotencyKey=${encodeURIComponent(record.idempotencyKey)}&source=${record.source}`,
    );
    expect(byKey.status).toBe(200);
    expect(((await byKey.json()) as { appointmentId: string }).appointmentId).toBe(id);
  });

  it('dead-letters poison records with their reason while valid records on the same partition complete', async () => {
    const key = `poison-${randomUUID().slice(0, 8)}`; // one key: one partition
    const valid1 = inbound(`cal-immediate-${randomUUID().slice(0, 8)}`);
    const valid2 = inbound(`cal-immediate-${randomUUID().slice(0, 8)}`);
    const good = await serde.encode(p.topics.inbound, valid1);
    const badMagic = Buffer.from(good);
    badMagic[0] = 9;
    const unknownId = Buffer.from(good);
    unknownId.writeInt32BE(1_999_999_999, 1);
    const invalid = await serde.encode(p.topics.inbound, {
      ...inbound('bad calendar id!'),
      patient: { id: 'p', name: '', phone: '12345', email: 'not-an-email' },
    });
    await send(key, badMagic);
    await send(key, good);
    await send(key, unknownId);
    await send(key, invalid);
    await send(key, good.subarray(0, 12)); // truncated
    await send(key, await serde.encode(p.topics.inbound, valid2));

    for (const v of [valid1, valid2]) {
      const id = appointmentIdFor(`kafka:${v.source}`, v.idempotencyKey);
      await p.waitForState(id, 'CONFIRMED');
      expect(await p.ledger(id)).toHaveLength(1);
    }
    const ours = await waitFor('four dead letters', () => {
      // Keys that are no appointment ids travel hashed (issue 12).
      const mine = dlt.filter((d) => d.value.originalKey?.toString() === safeKey(key));
      return mine.length >= 4 ? mine : null;
    });
    expect(ours.map((d) => d.value.reason)).toEqual([
      'DECODE_FAILED',
      'DECODE_FAILED',
      'VALIDATION_FAILED',
      'DECODE_FAILED',
    ]);
    expect(ours[0]!.value.errorMessage).toMatch(/bad magic byte 9/);
    expect(ours[1]!.value.errorMessage).toMatch(/unknown schema id 1999999999/);
    expect(ours[3]!.value.errorMessage).toMatch(/does not match schema/);
    expect(ours[2]!.value.fieldErrors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^calendarId:/),
        expect.stringMatching(/^patient\.name:/),
        expect.stringMatching(/^patient\.phone:/),
        expect.stringMatching(/^patient\.email:/),
      ]),
    );
    // Raw bytes and origin are kept, so nothing is lost.
    expect(Buffer.compare(ours[0]!.value.originalValue!, badMagic)).toBe(0);
    expect(ours.every((d) => d.value.originalTopic === p.topics.inbound)).toBe(true);
    expect(new Set(ours.map((d) => d.value.originalOffset)).size).toBe(4);
    expect(ours[0]!.value.correlationId).toBe(`corr-${key}`);
  });

  it('a request whose deadline has passed goes to the DLT without any provider call', async () => {
    const appointmentId = randomUUID();
    const b = requestBody(`cal-immediate-${randomUUID().slice(0, 8)}`);
    const late: AppointmentRequested = {
      appointmentId,
      source: 'clinic-a',
      idempotencyKeyHash: 'h',
      patient: { id: 'p-1', name: b.patient.name, phone: null, email: null },
      calendarId: b.calendarId,
      slot: b.slot,
      reason: null,
      deadline: Date.now() - 1000,
      acceptedAt: Date.now() - 60_000,
      correlationId: 'corr-late',
    };
    // As intake would have: the REQUESTED event first (audit refuses a story without a beginning).
    const requested = lifecycleEvent({
      appointmentId,
      from: null,
      to: 'REQUESTED',
      actor: 'test',
      correlationId: 'corr-late',
    });
    await producer.send({
      topic: p.topics.lifecycle,
      messages: [{ key: appointmentId, value: await serde.encode(p.topics.lifecycle, requested) }],
    });
    await producer.send({
      topic: p.topics.requested,
      messages: [
        {
          key: appointmentId,
          value: await serde.encode(p.topics.requested, late),
          headers: { [HEADERS.attempt]: '1' },
        },
      ],
    });
    const view = await p.waitForState(appointmentId, 'FAILED');
    expect(view.history[1]).toMatchObject({
      from: 'REQUESTED',
      to: 'DEAD_LETTERED',
      reason: 'DEADLINE_EXCEEDED',
    });
    const letter = await waitFor('its dead letter', () =>
      dlt.find((d) => d.value.appointmentId === appointmentId),
    );
    expect(letter.value).toMatchObject({ reason: 'DEADLINE_EXCEEDED', originalTopic: p.topics.requested });
    expect(await p.calls({ externalRef: appointmentId })).toEqual([]);
  });

  it('leaves the ledger with no slot booked twice', async () => {
    expect(await p.ledger()).not.toEqual([]);
    expect(await p.doubleBooked()).toEqual([]);
  });
});
