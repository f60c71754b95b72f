#!/usr/bin/env node
// An upstream producer, as small as it can be and complete: what docs/producers.md asks of a
// system that publishes booking requests to the pipeline. Copy it; it uses only kafkajs and the
// schema-registry client, nothing of this repository.
//
//   eval "$(./stack/stack.sh env)"; node examples/producer/produce.mjs [--count N] [--calendar ID]
//
// env: KAFKA_BROKERS (127.0.0.1:9092), SCHEMA_REGISTRY_URL (http://127.0.0.1:8081/apis/ccompat/v7),
//      TOPIC (appointments.inbound.v1), SOURCE (example-clinic-system), and for a secured cluster
//      the same variables as the services (docs/operations.md, "Connecting to a secured cluster"):
//      KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD(_FILE),
//      KAFKA_SSL_CA_FILE, KAFKA_SSL_CERT_FILE/KAFKA_SSL_KEY_FILE, SCHEMA_REGISTRY_USERNAME,
//      SCHEMA_REGISTRY_PASSWORD(_FILE).
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { Kafka, Partitioners } from 'kafkajs';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '3' },
    calendar: { type: 'string', default: 'cal-immediate-example' },
  },
});
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const registryUrl = process.env.SCHEMA_REGISTRY_URL ?? 'http://127.0.0.1:8081/apis/ccompat/v7';
const topic = process.env.TOPIC ?? 'appointments.inbound.v1';
const source = process.env.SOURCE ?? 'example-clinic-system';

// A secret from VAR or from the file VAR_FILE names (as container platforms mount them).
const secret = (name) =>
  process.env[`${name}_FILE`] ? readFileSync(process.env[`${name}_FILE`], 'utf8').trim() : process.env[name];
const protocol = (process.env.KAFKA_SECURITY_PROTOCOL ?? 'PLAINTEXT').toUpperCase();
const file = (name) => (process.env[name] ? readFileSync(process.env[name], 'utf8') : undefined);
const ssl = protocol.endsWith('SSL')
  ? {
      ...(file('KAFKA_SSL_CA_FILE') ? { ca: [file('KAFKA_SSL_CA_FILE')] } : {}),
      ...(file('KAFKA_SSL_CERT_FILE')
        ? { cert: file('KAFKA_SSL_CERT_FILE'), key: file('KAFKA_SSL_KEY_FILE') }
        : {}),
    }
  : undefined;
const sasl = protocol.startsWith('SASL')
  ? {
      mechanism: process.env.KAFKA_SASL_MECHANISM.toLowerCase(),
      username: process.env.KAFKA_SASL_USERNAME,
      password: secret('KAFKA_SASL_PASSWORD'),
    }
  : undefined;
const registryAuth = process.env.SCHEMA_REGISTRY_USERNAME
  ? { username: process.env.SCHEMA_REGISTRY_USERNAME, password: secret('SCHEMA_REGISTRY_PASSWORD') }
  : undefined;

const registry = new SchemaRegistry({ host: registryUrl, ...(registryAuth ? { auth: registryAuth } : {}) });
// The pipeline owns the subject and its compatibility rule (BACKWARD); a producer never registers,
// it encodes with the latest registered version.
const schemaId = await registry.getLatestSchemaId(`${topic}-value`);

const kafka = new Kafka({ clientId: source, brokers, ...(ssl ? { ssl } : {}), ...(sasl ? { sasl } : {}) });
const producer = kafka.producer({
  idempotent: true, // no duplicates from the producer's own retries
  maxInFlightRequests: 1,
  allowAutoTopicCreation: false,
  createPartitioner: Partitioners.DefaultPartitioner,
});
await producer.connect();

const hourAligned = (ms) => Math.floor(ms / 3_600_000) * 3_600_000;
const messages = [];
for (let i = 0; i < Number(values.count); i++) {
  // The idempotency key is the upstream system's own id for this request: the same request sent
  // again (a retry, a replay) must carry the same key, so the pipeline books it once.
  const idempotencyKey = `req-${randomUUID()}`;
  const start = hourAligned(Date.now() + (30 + i) * 86_400_000);
  const request = {
    idempotencyKey,
    patient: { id: `pt-${i}`, name: 'Example Patient', phone: null, email: null },
    calendarId: values.calendar,
    slot: {
      start: new Date(start).toISOString(),
      end: new Date(start + 30 * 60_000).toISOString(),
      timezone: 'Europe/London',
    },
    reason: null,
    deadline: Date.now() + 24 * 3_600_000,
    source,
  };
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  messages.push({
    // Same request -> same key -> same partition: a redelivery is seen in order.
    key: `${source}:${idempotencyKey}`,
    value: await registry.encode(schemaId, request),
    headers: {
      'x-correlation-id': randomUUID(),
      traceparent: `00-${traceId}-${spanId}-01`,
    },
  });
  console.log(JSON.stringify({ idempotencyKey, source, calendarId: request.calendarId }));
}
await producer.send({ topic, acks: -1, messages });
await producer.disconnect();
console.error(
  `sent ${messages.length} to ${topic} (schema id ${schemaId}); status: ` +
    `GET /v1/appointments?idempotencyKey=<key>&source=${source}`,
);
