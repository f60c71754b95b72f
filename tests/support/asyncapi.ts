// docs/asyncapi.yaml, generated (AsyncAPI 3.0) from the topic table (packages/kit/src/topics.ts),
// the Avro contracts (schemas/avro) and the services' declarations (who writes and reads each
// topic, as docs/architecture.md): every channel with its key, headers, Avro payload and bindings.
// tests/integration/contracts.test.ts fails when the file is out of date or does not validate.
import { DEFAULT_RETRY_DELAYS_MS, HEADERS, TOPIC_NAMES, topicSpecs } from '@booking/kit';
import { SCHEMAS } from '@booking/schemas';
import { stringify } from 'yaml';
import { topicUse } from './architecture.js';

const shown = (topic: string) => topic.replace(/\.retry-[^.]+$/, '.retry-*');
const id = (topic: string) =>
  topic
    .replace(/^appointments\./, '')
    .replace(/\.v1/, '')
    .replace(/[^a-zA-Z0-9]+(.)/g, (_m, c: string) => c.toUpperCase());

const HEADER_DOCS: Record<string, string> = {
  [HEADERS.correlationId]: 'Correlation id, carried from record to record (and from the HTTP request)',
  [HEADERS.traceparent]: 'W3C trace context',
  [HEADERS.attempt]: 'Provider attempt number (retry topics)',
  [HEADERS.deadline]: 'Epoch ms after which the booking is not attempted',
  [HEADERS.firstSeen]: 'Epoch ms the request was first accepted',
  [HEADERS.notBefore]: 'Epoch ms before which a delayed record is not handled (retry and poll topics)',
  [HEADERS.originalTopic]: 'Dead letters: the topic the record came from',
  [HEADERS.originalPartition]: 'Dead letters: its partition',
  [HEADERS.originalOffset]: 'Dead letters: its offset',
  [HEADERS.errorClass]: 'Dead letters: the error class',
  [HEADERS.errorMessage]: 'Dead letters: the reason, bounded',
  [HEADERS.uncalled]:
    'Retry topics: attempts so far refused by our own circuit breaker (count toward the limit, not the delay schedule)',
};

export function asyncApiDocument(): Record<string, unknown> {
  const use = new Map(topicUse().map((u) => [u.topic, u]));
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};
  for (const spec of topicSpecs(DEFAULT_RETRY_DELAYS_MS, TOPIC_NAMES)) {
    const u = use.get(shown(spec.name)) ?? { writers: [], readers: [] };
    const key =
      spec.name === TOPIC_NAMES.inbound
        ? '<source>:<idempotencyKey> (docs/producers.md)'
        : 'the appointment id';
    const cid = id(spec.name);
    messages[spec.schema] ??= {
      name: spec.schema,
      title: spec.schema,
      summary: (SCHEMAS[spec.schema] as { doc?: string }).doc ?? spec.schema,
      contentType: 'application/octet-stream',
      headers: {
        type: 'object',
        properties: Object.fromEntries(
          Object.values(HEADERS).map((h) => [h, { type: 'string', description: HEADER_DOCS[h] ?? h }]),
        ),
      },
      payload: {
        schemaFormat: 'application/vnd.apache.avro+json;version=1.9.0',
        schema: SCHEMAS[spec.schema],
      },
      bindings: {
        kafka: {
          key: {
            type: 'string',
            description: 'appointmentId, or for appointments.inbound.v1 the idempotency key',
          },
          schemaIdLocation: 'payload',
          schemaIdPayloadEncoding: 'confluent',
          bindingVersion: '0.5.0',
        },
      },
    };
    channels[cid] = {
      address: spec.name,
      title: spec.name,
      description: `Key: ${key}. Value: ${spec.schema} (Avro, Confluent wire format, subject ${spec.name}-value, BACKWARD). Written by ${u.writers.join(', ') || '–'}; read by ${u.readers.join(', ') || '–'}.`,
      messages: { [spec.schema]: { $ref: `#/components/messages/${spec.schema}` } },
      bindings: {
        kafka: {
          partitions: spec.partitions,
          topicConfiguration: { 'cleanup.policy': [spec.cleanupPolicy], 'retention.ms': spec.retentionMs },
          bindingVersion: '0.5.0',
        },
      },
    };
    if (u.writers.length)
      operations[`send_${cid}`] = {
        action: 'send',
        channel: { $ref: `#/channels/${cid}` },
        summary: `Written by ${u.writers.join(', ')}`,
        messages: [{ $ref: `#/channels/${cid}/messages/${spec.schema}` }],
      };
    if (u.readers.length)
      operations[`receive_${cid}`] = {
        action: 'receive',
        channel: { $ref: `#/channels/${cid}` },
        summary: `Read by ${u.readers.join(', ')}`,
        messages: [{ $ref: `#/channels/${cid}/messages/${spec.schema}` }],
      };
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Appointment booking pipeline: Kafka topics',
      version: '1.0.0',
      description:
        'Every topic of the pipeline: key, headers, Avro value and who writes and reads it. Generated from packages/kit/src/topics.ts, schemas/avro and the services’ declarations; upstream producers write appointments.inbound.v1 (docs/producers.md). HTTP API: docs/openapi.json.',
    },
    defaultContentType: 'application/octet-stream',
    servers: {
      local: {
        host: '127.0.0.1:9092',
        protocol: 'kafka',
        description: 'The local stack (./stack/stack.sh up)',
      },
      secured: {
        host: '127.0.0.1:9292',
        protocol: 'kafka-secure',
        description: 'A cluster that needs SASL_SSL (./stack/stack.sh up --secure; docs/operations.md)',
        security: [{ $ref: '#/components/securitySchemes/scram' }],
      },
    },
    channels,
    operations,
    components: {
      messages,
      securitySchemes: {
        scram: {
          type: 'scramSha512',
          description: 'SCRAM-SHA-512 over TLS (KAFKA_SASL_MECHANISM=scram-sha-512)',
        },
      },
    },
  };
}

export function asyncApiYaml(): string {
  return `# GENERATED by tests/support/asyncapi.ts (CONTRACTS_WRITE=1 npm run docs:contracts); do not edit.\n${stringify(asyncApiDocument(), { lineWidth: 0 })}`;
}
