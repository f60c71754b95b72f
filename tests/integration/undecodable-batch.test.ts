// Issue 31: a record batch that still cannot be decompressed (here: this process's lz4 codec made to
// fail, as a codec nobody knows would) pauses its partition only. The alert names topic, partition
// and offset, a metric counts it, intake's /healthz answers 503 naming the batch, and bookings on
// the other partitions flow on. The way out of docs/operations.md: a consumer that can read it
// (the codec back, a new instance) books everything in the batch; nothing was lost.
import { randomUUID } from 'node:crypto';
import { createIntake, intakeConfigSchema } from '@booking/intake';
import {
  AvroSerde,
  appointmentIdFor,
  CODECS,
  createLogger,
  createSchemaRegistry,
  loadConfig,
} from '@booking/kit';
import { CompressionCodecs, CompressionTypes } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stack, waitFor } from '../support/helpers.js';
import { API_KEY, type Pipeline, startPipeline } from '../support/pipeline.js';
import { inboundRecord, kcatProduce } from '../support/upstream.js';

let p: Pipeline;
let serde: AvroSerde;
let again: ReturnType<typeof createIntake> | undefined;

beforeAll(async () => {
  p = await startPipeline('undecodable');
  serde = new AvroSerde(createSchemaRegistry(stack().schemaRegistryUrl));
});
afterAll(async () => {
  CompressionCodecs[CompressionTypes.LZ4] = CODECS.lz4;
  await again?.stop();
  await p?.stop().catch(() => undefined); // its intake was stopped by the test already
});

describe('a batch no codec of ours can read', () => {
  it('pauses its partition alone, alerts with its offset, turns /healthz 503; a consumer that reads it books it all', async () => {
    CompressionCodecs[CompressionTypes.LZ4] = () => ({
      compress: CODECS.lz4().compress,
      decompress: async () => {
        throw new Error('no lz4 here (test)');
      },
    });
    const stuck = Array.from({ length: 4 }, () => inboundRecord('clinic-u'));
    await kcatProduce(
      p.topics.inbound,
      `u-${randomUUID()}`,
      'lz4',
      await Promise.all(stuck.map((r) => serde.encode(p.topics.inbound, r))),
      ['-p', '0'],
    );
    const alert = await waitFor(
      'the undecodable-batch alert',
      () => p.logs.intake.find((l) => l.alert === 'UndecodableRecordBatch'),
      30_000,
    );
    expect(alert).toMatchObject({ topic: p.topics.inbound, partition: 0, codec: 'lz4' });
    expect(alert.offset).toMatch(/^\d+$/);
    expect(String(alert.err)).toMatch(/no lz4 here/);

    // The other partitions flow on.
    const others = [inboundRecord('clinic-u'), inboundRecord('clinic-u')];
    for (const [i, r] of others.entries())
      await kcatProduce(
        p.topics.inbound,
        `o-${randomUUID()}`,
        'none',
        [await serde.encode(p.topics.inbound, r)],
        ['-p', String(i + 1)],
      );
    for (const r of others)
      await p.waitForState(appointmentIdFor('kafka:clinic-u', r.idempotencyKey), 'CONFIRMED', 30_000);

    const health = await fetch(p.healthUrls.intake);
    expect(health.status).toBe(503);
    expect(await health.text()).toContain(
      `${p.topics.inbound}/0 offset ${alert.offset} (lz4) cannot be decompressed`,
    );
    expect(await p.intakeMetrics()).toMatch(/booking_undecodable_batches_total\{[^}]*codec="lz4"[^}]*\} 1/);
    expect(await p.intakeMetrics()).toMatch(/booking_alerts_total\{kind="undecodable-batch"[^}]*\} 1/);
    // Nothing of the batch was booked, and nothing skipped past it.
    for (const r of stuck)
      expect(await p.view(appointmentIdFor('kafka:clinic-u', r.idempotencyKey))).toBeNull();

    // The way out: a consumer that can read the batch (a fixed build; here the codec back) takes over.
    CompressionCodecs[CompressionTypes.LZ4] = CODECS.lz4;
    await p.intake.stop();
    again = createIntake(loadConfig(intakeConfigSchema, p.intakeEnv), {
      topics: p.topics,
      logger: createLogger({ service: 'intake', level: 'warn', fd: 2 }),
    });
    const url = await again.start();
    for (const r of stuck) {
      const id = appointmentIdFor('kafka:clinic-u', r.idempotencyKey);
      await waitFor(
        `${id} CONFIRMED through the new intake`,
        async () => {
          const res = await fetch(`${url}/v1/appointments/${id}`, {
            headers: { authorization: `Bearer ${API_KEY}` },
          });
          return res.status === 200 && ((await res.json()) as { state: string }).state === 'CONFIRMED';
        },
        60_000,
      );
    }
  });
});
