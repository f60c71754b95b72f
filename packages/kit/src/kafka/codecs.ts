// Every compression codec a Kafka producer may use, for kafkajs (issue 31). kafkajs 2.2.4 decodes
// only gzip and throws for the rest, and the fetch carrying one snappy batch failed as a whole: an
// upstream producer that turned on snappy, lz4 or zstd stopped every partition of the consumer.
// Registered once per process (createKafka does it), each through a maintained native library:
// snappy (napi-rs), lz4-napi (lz4_flex, the LZ4 frame format Kafka uses since KIP-57), zstd-napi
// (libzstd), and gzip through node:zlib as kafkajs's own but bounded. Every decompression is
// bounded by MAX_DECOMPRESSED_BYTES: a batch the broker took at 1 MB may announce gigabytes.
import { promisify } from 'node:util';
import { gunzip as gunzipCb, gzip as gzipCb } from 'node:zlib';
import kafkajs from 'kafkajs';
import { compressFrame, decompressFrame } from 'lz4-napi';
import { compress as snappyCompress, uncompress as snappyUncompress } from 'snappy';
import { compress as zstdCompress } from 'zstd-napi';
import zstdBinding from 'zstd-napi/binding.js';

/** The most one record batch may inflate to (64 MiB); more is refused as undecodable. */
export const MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024;

export type CodecName = 'gzip' | 'snappy' | 'lz4' | 'zstd';

/** Batches decompressed in this process, by codec (for `kafka_record_batches_decompressed_total`). */
export const decompressedBatches: Record<CodecName, number> = { gzip: 0, snappy: 0, lz4: 0, zstd: 0 };

/** The codec ids of a record batch's attributes (its low three bits). */
export const CODEC_IDS: Record<number, CodecName | 'none'> = {
  0: 'none',
  1: 'gzip',
  2: 'snappy',
  3: 'lz4',
  4: 'zstd',
};

export class DecompressionBoundError extends Error {
  constructor(codec: CodecName, size: number) {
    super(`${codec} batch inflates to ${size} bytes, over the bound of ${MAX_DECOMPRESSED_BYTES}`);
    this.name = 'DecompressionBoundError';
  }
}

function bounded(codec: CodecName, out: Buffer): Buffer {
  if (out.length > MAX_DECOMPRESSED_BYTES) throw new DecompressionBoundError(codec, out.length);
  return out;
}

const gzip = promisify(gzipCb);
const gunzip = promisify(gunzipCb);

/** Snappy's own preamble: the uncompressed length as a varint (at most 5 bytes for 32 bits). */
export function snappyLength(block: Buffer): number {
  let n = 0;
  for (let i = 0; i < 5 && i < block.length; i++) {
    const b = block[i]!;
    n += (b & 0x7f) * 2 ** (7 * i);
    if ((b & 0x80) === 0) return n;
  }
  throw new Error('snappy block without a valid length preamble');
}

/** The xerial framing the Java client writes: a magic header, then length-prefixed snappy blocks. */
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER = 16;

async function snappyBlock(block: Buffer, total: number): Promise<Buffer> {
  const size = snappyLength(block);
  if (total + size > MAX_DECOMPRESSED_BYTES) throw new DecompressionBoundError('snappy', total + size);
  return (await snappyUncompress(block)) as Buffer;
}

/** Raw snappy (librdkafka, kafkajs-snappy) or xerial-framed snappy (the Java client). */
export async function snappyDecompress(buffer: Buffer): Promise<Buffer> {
  if (buffer.length < XERIAL_HEADER || !buffer.subarray(0, 8).equals(XERIAL_MAGIC))
    return snappyBlock(buffer, 0);
  const blocks: Buffer[] = [];
  let total = 0;
  let at = XERIAL_HEADER;
  while (at < buffer.length) {
    if (at + 4 > buffer.length) throw new Error('xerial snappy: truncated block length');
    const length = buffer.readInt32BE(at);
    at += 4;
    if (length < 0 || at + length > buffer.length) throw new Error('xerial snappy: block past the end');
    const block = await snappyBlock(buffer.subarray(at, at + length), total);
    total += block.length;
    blocks.push(block);
    at += length;
  }
  return Buffer.concat(blocks, total);
}

/** zstd with a bound: the frames' announced sizes are checked first, a streamed frame as it goes. */
export function zstdDecompress(buffer: Buffer): Buffer {
  let announced = 0;
  let frame: Buffer = buffer;
  while (frame.length > 0 && announced >= 0) {
    const size = zstdBinding.getFrameContentSize(frame);
    if (size === null) announced = -1;
    else {
      announced += size;
      if (announced > MAX_DECOMPRESSED_BYTES) throw new DecompressionBoundError('zstd', announced);
      frame = frame.subarray(zstdBinding.findFrameCompressedSize(frame));
    }
  }
  const dctx = new zstdBinding.DCtx();
  const chunks: Buffer[] = [];
  let total = 0;
  let input: Buffer = buffer;
  const step = zstdBinding.dStreamOutSize();
  while (input.length > 0) {
    const chunk = Buffer.allocUnsafe(step);
    const [, produced, consumed] = dctx.decompressStream(chunk, input);
    if (produced === 0 && consumed === 0) throw new Error('zstd: no progress (truncated frame)');
    total += produced;
    if (total > MAX_DECOMPRESSED_BYTES) throw new DecompressionBoundError('zstd', total);
    chunks.push(chunk.subarray(0, produced));
    input = input.subarray(consumed);
  }
  return Buffer.concat(chunks, total);
}

interface Codec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

function counted(name: CodecName, codec: Codec): () => Codec {
  const wrapped: Codec = {
    compress: codec.compress,
    async decompress(buffer) {
      const out = bounded(name, await codec.decompress(buffer));
      decompressedBatches[name]++;
      return out;
    },
  };
  return () => wrapped;
}

export const CODECS: Record<CodecName, () => Codec> = {
  gzip: counted('gzip', {
    compress: (e) => gzip(e.buffer),
    decompress: (b) => gunzip(b, { maxOutputLength: MAX_DECOMPRESSED_BYTES }),
  }),
  snappy: counted('snappy', {
    compress: (e) => snappyCompress(e.buffer),
    decompress: snappyDecompress,
  }),
  lz4: counted('lz4', {
    compress: (e) => compressFrame(e.buffer),
    decompress: (b) => decompressFrame(b),
  }),
  zstd: counted('zstd', {
    compress: async (e) => zstdCompress(e.buffer),
    decompress: async (b) => zstdDecompress(b),
  }),
};

// kafkajs is CommonJS: node's ESM loader finds no named export for these two.
const { CompressionCodecs, CompressionTypes } = kafkajs;
let registered = false;

/** Registers the four codecs with kafkajs (idempotent; every Kafka client of the kit calls it). */
export function registerCodecs(): void {
  if (registered) return;
  registered = true;
  CompressionCodecs[CompressionTypes.GZIP] = CODECS.gzip;
  CompressionCodecs[CompressionTypes.Snappy] = CODECS.snappy;
  CompressionCodecs[CompressionTypes.LZ4] = CODECS.lz4;
  CompressionCodecs[CompressionTypes.ZSTD] = CODECS.zstd;
}
