// Avro values in the Confluent wire format (magic byte 0, 4-byte schema id, Avro body) through a
// Confluent-compatible registry. Decoding failures are classified once, here:
//   the record is bad (bad magic byte, unknown schema id, truncated or garbled body) -> DecodeError,
//   not retryable: the record goes to the DLT;
//   the registry cannot be reached -> retryable: the record is NOT dead-lettered for our outage.
// Records are hostile until checked (issue 12): a record is decoded only with a schema registered
// under its topic's subject, read through a resolver into the consumer's own (reader) schema, so a
// BACKWARD-compatible newer writer schema still books; its size and every array or map's element
// count are bounded, so a ~20-byte record announcing 2^31 elements can no longer spin the event loop.

import { SCHEMAS, type SchemaName } from '@booking/schemas';
import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';
import { type Connections, connections } from '../connections.js';
import { DecodeError, PipelineError } from '../errors.js';
import { subjectOf } from '../topics.js';

const MAGIC_BYTE = 0;
const HEADER_BYTES = 5;
/** Largest record decoded (the topics' max.message.bytes is 1 MiB). */
export const MAX_RECORD_BYTES = 1024 * 1024;
/** Most elements one array or map may hold. */
export const MAX_ELEMENTS = 10_000;

interface Tap {
  buf: Buffer;
  pos: number;
  readLong(): number;
  skipLong(): void;
  readString(): string;
  skipString(): void;
}
interface ContainerType {
  itemsType: { _read(t: Tap): unknown; _skip(t: Tap): void };
  valuesType: { _read(t: Tap): unknown; _skip(t: Tap): void };
}

/**
 * avsc (5.7.9) trusts a block's element count: `new Array(n)` and a loop of n reads, whatever the
 * bytes left. Its array and map readers (and skippers, used for fields a reader drops) are replaced,
 * once per process, by ones that refuse more than MAX_ELEMENTS and stop at the end of the buffer.
 */
function boundContainers(): void {
  const types = avro.types as unknown as Record<string, { prototype: Record<string, unknown> }>;
  const arrayProto = types.ArrayType!.prototype;
  if (arrayProto.__bounded) return;
  const count = (tap: Tap, seen: number) => {
    let n = tap.readLong();
    if (n < 0) {
      n = -n;
      tap.skipLong();
    }
    if (!Number.isSafeInteger(n) || n + seen > MAX_ELEMENTS)
      throw new Error(`a block announces ${n} more elements; at most ${MAX_ELEMENTS} are read`);
    return n;
  };
  const check = (tap: Tap) => {
    if (tap.pos > tap.buf.length) throw new Error('truncated: an element runs past the end of the record');
  };
  arrayProto._read = function (this: ContainerType, tap: Tap) {
    const out: unknown[] = [];
    for (let n = count(tap, 0); n; n = count(tap, out.length)) {
      while (n--) {
        out.push(this.itemsType._read(tap));
        check(tap);
      }
    }
    return out;
  };
  arrayProto._skip = function (this: ContainerType, tap: Tap) {
    let seen = 0;
    for (let n = count(tap, 0); n; n = count(tap, seen)) {
      seen += n;
      while (n--) {
        this.itemsType._skip(tap);
        check(tap);
      }
    }
  };
  const mapProto = types.MapType!.prototype;
  mapProto._read = function (this: ContainerType, tap: Tap) {
    const out: Record<string, unknown> = {};
    let seen = 0;
    for (let n = count(tap, 0); n; n = count(tap, seen)) {
      seen += n;
      while (n--) {
        const key = tap.readString();
        out[key] = this.valuesType._read(tap);
        check(tap);
      }
    }
    return out;
  };
  mapProto._skip = function (this: ContainerType, tap: Tap) {
    let seen = 0;
    for (let n = count(tap, 0); n; n = count(tap, seen)) {
      seen += n;
      while (n--) {
        tap.skipString();
        this.valuesType._skip(tap);
        check(tap);
      }
    }
  };
  arrayProto.__bounded = true;
}
boundContainers();

/** What a consumer expects: the topic read (whose subject the writer schema must be under) and its reader schema. */
export interface DecodeExpectation {
  topic: string;
  schema: SchemaName;
}

interface RegistryApi {
  Schema: { find(p: { id: number }): Promise<{ data(): { schema: string } }> };
  Subject: {
    registered(p: { subject: string; body: { schema: string } }): Promise<{ data(): { id: number } }>;
  };
}

/** Remembered answers at most: a stream of random schema ids cannot grow memory. */
const CACHE_MAX = 1000;
const remember = <K, V>(map: Map<K, V>, key: K, value: V) => {
  if (map.size >= CACHE_MAX) map.delete(map.keys().next().value as K);
  map.set(key, value);
};

export function createSchemaRegistry(
  url: string,
  security: Connections['registry'] = connections().registry,
): SchemaRegistry {
  // A bearer token goes on every request as a header; basic auth and a private CA the client takes.
  const token = security.token;
  const bearer = token
    ? [
        () => ({
          request: (req: { enhance(o: { headers: Record<string, string> }): unknown }) =>
            req.enhance({ headers: { authorization: `Bearer ${token}` } }),
        }),
      ]
    : [];
  // omitRecordMethods: decoded records are plain data (no clone/toBuffer… on their prototype),
  // so strict validation and structuredClone see only the contract's fields.
  return new SchemaRegistry(
    {
      host: url,
      retry: { retries: 2, initialRetryTimeInSecs: 0.1 },
      ...(security.auth ? { auth: security.auth } : {}),
      ...(security.agent ? { agent: security.agent } : {}),
      ...(bearer.length ? { middlewares: bearer as never } : {}),
    },
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
  /** Whether a schema id is registered under a subject, and when that was asked. */
  private readonly membership = new Map<string, { ok: boolean; at: number }>();
  private readonly readers = new Map<SchemaName, avro.Type>();
  private readonly resolvers = new Map<string, avro.Resolver>();

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

  /**
   * Whether schema `id` is registered under `subject`, asked of the registry with the schema's text
   * (`POST /subjects/{subject}`). A yes is remembered; a no for 5 s, so an upstream's newly
   * registered version is taken at once and unknown ids cannot hammer the registry.
   */
  private async underSubject(subject: string, id: number): Promise<boolean> {
    const key = `${subject}#${id}`;
    const known = this.membership.get(key);
    if (known && (known.ok || Date.now() - known.at < 5000)) return known.ok;
    let ok: boolean;
    try {
      const { schema } = (await this.api().Schema.find({ id })).data();
      const found = await this.api().Subject.registered({ subject, body: { schema } });
      ok = found.data().id === id;
    } catch (err) {
      if (httpStatus(err) !== 404)
        throw new PipelineError(
          'SCHEMA_REGISTRY_UNAVAILABLE',
          `cannot look ${subject} up: ${(err as Error).message}`,
          { cause: err, retryable: true },
        );
      ok = false;
    }
    remember(this.membership, key, { ok, at: Date.now() });
    return ok;
  }

  /** The registry client's own HTTP API (schema by id, look-up under a subject): no second client to configure. */
  private api(): RegistryApi {
    return (this.registry as unknown as { api: RegistryApi }).api;
  }

  private reader(name: SchemaName): avro.Type {
    let type = this.readers.get(name);
    if (!type) {
      type = avro.Type.forSchema(
        SCHEMAS[name] as unknown as avro.Schema,
        { omitRecordMethods: true } as avro.ForSchemaOptions,
      );
      this.readers.set(name, type);
    }
    return type;
  }

  async decode<T = unknown>(
    buffer: Buffer | null | undefined,
    expect?: DecodeExpectation,
  ): Promise<DecodedRecord<T>> {
    if (!buffer || buffer.length < HEADER_BYTES) {
      throw new DecodeError(
        `truncated record: ${buffer?.length ?? 0} bytes, the wire format needs at least ${HEADER_BYTES}`,
      );
    }
    if (buffer.length > MAX_RECORD_BYTES) {
      throw new DecodeError(`record of ${buffer.length} bytes is over the bound of ${MAX_RECORD_BYTES}`);
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
    if (!expect) {
      try {
        return { schemaId, value: type.fromBuffer(buffer.subarray(HEADER_BYTES)) as T };
      } catch (err) {
        throw new DecodeError(`body does not match schema ${schemaId}: ${(err as Error).message}`, err);
      }
    }
    const subject = subjectOf(expect.topic);
    if (!(await this.underSubject(subject, schemaId))) {
      throw new DecodeError(`schema id ${schemaId} is not registered under ${subject}`);
    }
    const reader = this.reader(expect.schema);
    const resolverKey = `${schemaId}>${expect.schema}`;
    let resolver = this.resolvers.get(resolverKey);
    if (!resolver) {
      try {
        resolver = reader.createResolver(type);
      } catch (err) {
        throw new DecodeError(
          `schema ${schemaId} cannot be read as ${expect.schema}: ${(err as Error).message}`,
          err,
        );
      }
      remember(this.resolvers, resolverKey, resolver);
    }
    try {
      return { schemaId, value: reader.fromBuffer(buffer.subarray(HEADER_BYTES), resolver) as T };
    } catch (err) {
      throw new DecodeError(`body does not match schema ${schemaId}: ${(err as Error).message}`, err);
    }
  }
}
