// What the serde says about bad records (dead-letter them) versus a registry outage (retry).
import { AvroSerde, createSchemaRegistry, DecodeError, isRetryable, PipelineError } from '@booking/kit';
import { SCHEMAS } from '@booking/schemas';
import { describe, expect, it } from 'vitest';
import { providerPoll, serde, unique } from '../support/helpers.js';

describe('decoding bad records', () => {
  it('classifies a bad magic byte, an unknown schema id and a truncated body as non-retryable DecodeErrors', async () => {
    const avro = serde();
    const topic = unique('decode');
    const id = await avro.register(topic, SCHEMAS.ProviderPoll);
    const good = await avro.encode(topic, providerPoll('a'));
    expect((await avro.decode(good)).schemaId).toBe(id);

    const badMagic = Buffer.from(good);
    badMagic[0] = 7;
    const unknownId = Buffer.from(good);
    unknownId.writeInt32BE(2_000_000_000, 1);
    const truncated = good.subarray(0, good.length - 3);

    for (const [name, buf, pattern] of [
      ['bad magic byte', badMagic, /bad magic byte 7/],
      ['unknown schema id', unknownId, /unknown schema id 2000000000/],
      ['truncated body', truncated, /does not match schema/],
      ['too short for the header', Buffer.from([0, 0]), /truncated record/],
      ['empty value', null, /truncated record/],
    ] as const) {
      const err = await avro.decode(buf).catch((e: unknown) => e);
      expect(err, name).toBeInstanceOf(DecodeError);
      expect((err as Error).message, name).toMatch(pattern);
      expect(isRetryable(err), name).toBe(false);
    }
  });

  it('treats an unreachable registry as retryable, so records are not dead-lettered for our outage', async () => {
    const avro = serde();
    const topic = unique('decode');
    const good = await (async () => {
      await avro.register(topic, SCHEMAS.ProviderPoll);
      return avro.encode(topic, {
        appointmentId: 'a',
        bookingId: 'b',
        calendarId: 'c',
        deadline: null,
        polls: 0,
        firstSeenAt: 1,
        correlationId: 'x',
      });
    })();
    const offline = new AvroSerde(createSchemaRegistry('http://127.0.0.1:1/apis/ccompat/v7'));
    const err = await offline.decode(good).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PipelineError);
    expect(err).not.toBeInstanceOf(DecodeError);
    expect(isRetryable(err)).toBe(true);
  });
});
