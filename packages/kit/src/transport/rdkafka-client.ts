// The librdkafka client (@confluentinc/kafka-javascript, issue 28), configured from the same
// settings as kafkajs: KAFKA_BROKERS and the one config reader's KAFKA_SECURITY_PROTOCOL, SASL and
// TLS variables (connections.ts), mapped here to librdkafka's names once. Not yet used by the
// services; the transaction batcher and the fencing tests run on it.
import rdkafka from '@confluentinc/kafka-javascript';
import { type Connections, connections } from '../connections.js';

const { Kafka, logLevel } = rdkafka.KafkaJS;
export type RdKafka = InstanceType<typeof Kafka>;

const MECHANISMS: Record<string, string> = {
  plain: 'PLAIN',
  'scram-sha-256': 'SCRAM-SHA-256',
  'scram-sha-512': 'SCRAM-SHA-512',
};

const pem = (v: unknown): string | undefined => {
  const one = Array.isArray(v) ? v[0] : v;
  return one === undefined ? undefined : Buffer.isBuffer(one) ? one.toString('utf8') : String(one);
};

/** librdkafka's security settings for the kit's Kafka connection (PEM strings, no files re-read). */
export function rdkafkaSecurity(c: Connections['kafka']): Record<string, string> {
  const out: Record<string, string> = { 'security.protocol': c.protocol.toLowerCase() };
  const ca = pem(c.ssl?.ca);
  const cert = pem(c.ssl?.cert);
  const key = pem(c.ssl?.key);
  if (ca) out['ssl.ca.pem'] = ca;
  if (cert) out['ssl.certificate.pem'] = cert;
  if (key) out['ssl.key.pem'] = key;
  const sasl = c.sasl as { mechanism?: string; username?: string; password?: string } | undefined;
  if (sasl?.mechanism) {
    out['sasl.mechanisms'] = MECHANISMS[sasl.mechanism] ?? sasl.mechanism.toUpperCase();
    if (sasl.username) out['sasl.username'] = sasl.username;
    if (sasl.password) out['sasl.password'] = sasl.password;
  }
  return out;
}

export interface RdkafkaOptions {
  clientId: string;
  brokers: readonly string[];
  /** TLS and SASL; by default this process's (connections.ts). */
  security?: Connections['kafka'];
}

/** A librdkafka client with the KafkaJS-compatible API, secured as the rest of the process is. */
export function createRdkafka({ clientId, brokers, security }: RdkafkaOptions): RdKafka {
  return new Kafka({
    kafkaJS: { brokers: [...brokers], clientId, logLevel: logLevel.WARN },
    ...rdkafkaSecurity(security ?? connections().kafka),
  });
}
