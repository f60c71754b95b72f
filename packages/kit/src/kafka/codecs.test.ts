// Issue 31: every codec a producer may use is read, through kafkajs's own record-batch encoder and
// fetch decoder (patched: a batch that cannot be decompressed ends its partition's records with a
// marker instead of failing the whole fetch), and every decompression is bounded.
import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
import { compressSync as snappyCompress } from 'snappy';
import { describe, expect, it } from 'vitest';
import { CompressStream, compress as zstdCompress } from 'zstd-napi';
import zstdBinding from 'zstd-napi/binding.js';
import {
  CODECS,
  DecompressionBoundError,
  decompressedBatches,
  MAX_DECOMPRESSED_BYTES,
  registerCodecs,
  snappyDecompress,
  snappyLength,
  zstdDecompress,
} from './codecs.js';

const require = createRequire(import.meta.url);
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js');
const Record = require('kafkajs/src/protocol/recordBatch/record/v0/index.js');
const Encoder = require('kafkajs/src/protocol/encoder.js');
const Decoder = require('kafkajs/src/protocol/decoder.js');
const Long = require('kafkajs/src/utils/long.js');
const decodeMessages = require('kafkajs/src/protocol/requests/fetch/v4/decodeMessages.js');
const Batch = require('kafkajs/src/consumer/batch.js');

registerCodecs();

const CODEC_ID = { gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;

/** One record batch of `n` records from `first`, as a broker stores it (firstOffset + batch). */
async function batch(compression: number, first: number, n: number): Promise<Buffer> {
  const records = Array.from({ length: n }, (_, i) =>
    Record({
      offsetDelta: i,
      key: Buffer.from(`k${first + i}`),
      value: Buffer.from(`value ${first + i} `.repeat(20)),
    }),
  );
  const encoded = await RecordBatch({
    compression,
    firstOffset: Long.fromInt(first),
    lastOffsetDelta: n - 1,
    records,
  });
  return encoded.buffer as Buffer;
}

/** A partition's record set in a fetch answer: its size, then the batches. */
const recordSet = (...batches: Buffer[]) => {
  const all = Buffer.concat(batches);
  return new Decoder(new Encoder().writeInt32(all.length).writeBuffer(all).buffer);
};

/** The batch's attributes sit after firstOffset, length, leader epoch, magic and CRC (kafkajs checks no CRC). */
const withCodecId = (b: Buffer, id: number) => {
  const copy = Buffer.from(b);
  copy.writeInt16BE((copy.readInt16BE(21) & ~7) | id, 21);
  return copy;
};

describe('record batches in every codec', () => {
  for (const [name, id] of Object.entries(CODEC_ID)) {
    it(`${name}: kafkajs decodes the records a ${name} batch holds, and the batch is counted`, async () => {
      const before = decompressedBatches[name as keyof typeof CODEC_ID];
      const records = await decodeMessages(recordSet(await batch(id, 0, 5), await batch(id, 5, 3)));
      expect(records.map((r: { offset: string }) => r.offset)).toEqual([
        '0',
        '1',
        '2',
        '3',
        '4',
        '5',
        '6',
        '7',
      ]);
      expect(String(records[6].value)).toBe('value 6 '.repeat(20));
      expect(records.undecodable).toBeUndefined();
      expect(decompressedBatches[name as keyof typeof CODEC_ID]).toBe(before + 2);
    });
  }

  it('snappy as the Java client frames it (xerial) and as librdkafka writes it (raw) both decode', async () => {
    const data = Buffer.from('a record set '.repeat(500));
    const block = snappyCompress(data);
    const header = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1]);
    const half = snappyCompress(data.subarray(0, 3000));
    const rest = snappyCompress(data.subarray(3000));
    const len = (b: Buffer) => {
      const l = Buffer.alloc(4);
      l.writeInt32BE(b.length);
      return l;
    };
    const xerial = Buffer.concat([header, len(half), half, len(rest), rest]);
    expect(await snappyDecompress(block)).toEqual(data);
    expect(await snappyDecompress(xerial)).toEqual(data);
    await expect(snappyDecompress(Buffer.concat([header, len(half), half.subarray(0, 10)]))).rejects.toThrow(
      /past the end/,
    );
  });
});

describe('a batch that cannot be decompressed', () => {
  it("ends its partition's records with a marker naming it; the records before it are read", async () => {
    const good = await batch(CODEC_ID.lz4, 10, 4);
    const unknown = withCodecId(await batch(0, 14, 2), 5);
    const after = await batch(CODEC_ID.gzip, 16, 2);
    const records = await decodeMessages(recordSet(good, unknown, after));
    expect(records.map((r: { offset: string }) => r.offset)).toEqual(['10', '11', '12', '13']);
    expect(records.undecodable).toMatchObject({ offset: '14', lastOffset: '15', codec: 5 });
    expect(records.undecodable.reason).toMatch(/unknown compression codec id 5/);
  });

  it('a codec that fails on its bytes is reported the same way, and the consumer batch carries the marker', async () => {
    // Claims zstd, holds gzip: the broker's CRC is right, the payload is nothing zstd reads.
    const wrong = withCodecId(await batch(CODEC_ID.gzip, 0, 3), CODEC_ID.zstd);
    const partition = {
      partition: 2,
      highWatermark: '3',
      abortedTransactions: [],
      messages: await decodeMessages(recordSet(wrong)),
    };
    const b = new Batch('t', '0', partition);
    expect(b.isEmpty()).toBe(true);
    expect(b.undecodable).toMatchObject({ offset: '0', lastOffset: '2', codec: 4 });
  });

  it('without a registered codec (plain kafkajs) the batch is undecodable, not a failed fetch', async () => {
    const { Codecs, Types } = require('kafkajs/src/protocol/message/compression/index.js');
    const saved = Codecs[Types.Snappy];
    const b = await batch(CODEC_ID.snappy, 0, 2);
    Codecs[Types.Snappy] = () => {
      throw new Error('Snappy compression not implemented');
    };
    try {
      const records = await decodeMessages(recordSet(b));
      expect(records).toHaveLength(0);
      expect(records.undecodable.reason).toMatch(/not implemented/);
    } finally {
      Codecs[Types.Snappy] = saved;
    }
  });
});

describe('decompression is bounded', () => {
  it('a snappy block announcing more than the bound is refused before it is inflated', async () => {
    // Varint preamble of 2^31 - 1 bytes, then nothing.
    const announce = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x07, 0x00]);
    expect(snappyLength(announce)).toBe(2 ** 31 - 1);
    await expect(snappyDecompress(announce)).rejects.toBeInstanceOf(DecompressionBoundError);
  });

  it('gzip, zstd and lz4 that inflate past the bound are refused', async () => {
    const big = Buffer.alloc(MAX_DECOMPRESSED_BYTES + 1);
    await expect(CODECS.gzip().decompress(gzipSync(big))).rejects.toThrow(/buffer|bound|length/i);
    expect(() => zstdDecompress(zstdCompress(big))).toThrow(DecompressionBoundError);
    const lz4 = await CODECS.lz4().compress({ buffer: big });
    await expect(CODECS.lz4().decompress(lz4)).rejects.toBeInstanceOf(DecompressionBoundError);
  });

  it('a streamed zstd frame (no content size in its header) is bounded as it inflates', async () => {
    const streamed = async (data: Buffer) => {
      const chunks: Buffer[] = [];
      const c = new CompressStream();
      c.on('data', (d: Buffer) => chunks.push(d));
      const done = new Promise((resolve) => c.on('end', resolve));
      c.end(data);
      await done;
      return Buffer.concat(chunks);
    };
    const small = Buffer.from('stream '.repeat(1000));
    const frame = await streamed(small);
    expect(zstdBinding.getFrameContentSize(frame)).toBeNull();
    expect(zstdDecompress(frame)).toEqual(small);
    const bomb = await streamed(Buffer.alloc(MAX_DECOMPRESSED_BYTES + 1));
    expect(zstdBinding.getFrameContentSize(bomb)).toBeNull();
    expect(() => zstdDecompress(bomb)).toThrow(DecompressionBoundError);
  });
});
