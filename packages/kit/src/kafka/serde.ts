// Avro values in the Confluent wire format (magic byte 0, 4-byte schema id, Avro body) through a
// Confluent-compatible registry. Decoding failures are classified once, here:
//   the record is bad (bad magic byte, unknown schema id, truncated or garbled body) -> DecodeError,
//   not retryable: the record goes to the DLT;
//   the registry cannot be reached -> retryable: the record is NOT dead-lettered for our outage.
import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import type avro from 'avsc';
import { DecodeError, PipelineError } from '../errors.js';
import { subjectOf } from '../topics.js';

const MAGIC_BYTE = 0;
const HEADER_BYTES = 5;

export function createSchemaRegistry(url: string): SchemaRegistry {
  // omitRecordMethods: decoded records are plain data (no clone/toBuffer… on their prototype),
  // so strict validation and structuredClone see only the contract's fields.
  return new SchemaRegistry(
    { host: url, retry: { retries: 2, initialRetryTimeInSecs: 0.1 } },
    { forSchemaOptions: { omitRecordMethods: true } },
  );
}

function httpStatus(err: unknown): number | undefined {
  const status = (err as { status?: unknown })?.status;
  return typeof status === 'number' ? status : undefined;
}

export interface DecodedRecord<T = unknown> {
  schemaId: number;
  value: T;
}

export class AvroSerde {
  private readonly idsByTopic = new Map<string, number>();

  constructor(readonly registry: SchemaRegistry) {}

  /** Registers `schema` as `<topic>-value` (BACKWARD); returns its id and uses it for encoding. */
  async register(topic: string, schema: object): Promise<number> {
    try {
      const { id } = await this.registry.register(
        { type: SchemaType.AVRO, schema: JSON.stringify(schema) },
        { subject: subjectOf(topic), compatibility: COMPATIBILITY.BACKWARD },
      );
      this.idsByTopic.set(topic, id);
      return id;
    } catch (err) {
      const status = httpStatus(err);
      if (status === 409) {
        throw new PipelineError('VALIDATION_FAILED', `schema for ${subjectOf(topic)} is incompatible`, {
          cause: err,
        });
      }
      throw new PipelineError(
        'SCHEMA_REGISTRY_UNAVAILABLE',
        `cannot register ${subjectOf(topic)}: ${(err as Error).message}`,
        {
          cause: err,
          retryable: true,
        },
      );
    }
  }

  async encode(topic: string, value: unknown): Promise<Buffer> {
    let id = this.idsByTopic.get(topic);
    if (id === undefined) {
      try {
        id = await this.registry.getLatestSchemaId(subjectOf(topic));
      } catch (err) {
        throw new PipelineError(
          'SCHEMA_REGISTRY_UNAVAILABLE',
          `no schema for ${subjectOf(topic)}: ${(err as Error).message}`,
          {
            cause: err,
            retryable: httpStatus(err) !== 404,
          },
        );
      }
      this.idsByTopic.set(topic, id);
    }
    return this.registry.encode(id, value);
  }

  async decode<T = unknown>(buffer: Buffer | null | undefined): Promise<DecodedRecord<T>> {
    if (!buffer || buffer.length < HEADER_BYTES) {
      throw new DecodeError(
        `truncated record: ${buffer?.length ?? 0} bytes, the wire format needs at least ${HEADER_BYTES}`,
      );
    }
    if (buffer[0] !== MAGIC_BYTE) {
      throw new DecodeError(`bad magic byte ${buffer[0]}: not the Confluent wire format`);
    }
    const schemaId = buffer.readInt32BE(1);
    let type: avro.Type;
    try {
      type = (await this.registry.getSchema(schemaId)) as unknown as avro.Type;
    } catch (err) {
      if (httpStatus(err) === 404) throw new DecodeError(`unknown schema id ${schemaId}`, err);
      throw new PipelineError(
        'SCHEMA_REGISTRY_UNAVAILABLE',
        `cannot fetch schema ${schemaId}: ${(err as Error).message}`,
        {
          cause: err,
          retryable: true,
        },
      );
    }
    try {
      return { schemaId, value: type.fromBuffer(buffer.subarray(HEADER_BYTES)) as T };
    } catch (err) {
      throw new DecodeError(`body does not match schema ${schemaId}: ${(err as Error).message}`, err);
    }
  }
}
