// Issue 31 on the real stack: good booking records written to the inbound topic by a producer that
// is not ours (Debian's kcat, librdkafka) compressed with gzip, snappy, lz4 and zstd are all
// CONFIRMED, and so is a canary sent after each on the same key. Before, kafkajs read only gzip and
// the first snappy batch stopped every inbound partition for good.
import { randomUUID } from 'node:crypto';
import { AvroSerde, appointmentIdFor, createSchemaRegistry, decompressedBatches } from '@booking/kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stack } from '../support/helpers.js';
import { type Pipeline, startPipeline } from '../support/pipeline.js';
import { inboundRecord, kcatProduce } from '../support/upstream.js';

let p: Pipeline;
let serde: AvroSerde;

beforeAll(async () => {
  p = await startPipeline('codecs');
  serde = new AvroSerde(createSchemaRegistry(stack().schemaRegistryUrl));
});
afterAll(async () => {
  await p?.stop();
});

describe('records compressed by an upstream producer (kcat, librdkafka)', () => {
  for (const codec of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
    it(`${codec}: a batch of bookings and the canary after it are CONFIRMED`, async () => {
      const before = decompressedBatches[codec];
      const key = `upstream-${codec}-${randomUUID()}`;
      const batch = Array.from({ length: 5 }, () => inboundRecord('clinic-z'));
      const values = await Promise.all(batch.map((r) => serde.encode(p.topics.inbound, r)));
      await kcatProduce(p.topics.inbound, key, codec, values);
      const canary = inboundRecord('clinic-z');
      await kcatProduce(p.topics.inbound, key, 'none', [await serde.encode(p.topics.inbound, canary)]);
      for (const r of [...batch, canary])
        await p.waitForState(appointmentIdFor('kafka:clinic-z', r.idempotencyKey), 'CONFIRMED', 30_000);
      // The batch really was compressed with this codec, and our codec read it.
      expect(decompressedBatches[codec]).toBeGreaterThan(before);
      expect(await p.intakeMetrics()).toMatch(
        new RegExp(`kafka_record_batches_decompressed_total\\{codec="${codec}"[^}]*\\} [1-9]`),
      );
    });
  }
});
