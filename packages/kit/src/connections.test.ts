import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { explainConnectionError, parseConnections, registryHeaders } from './connections.js';
import { ConfigError } from './errors.js';

const dir = mkdtempSync(join(tmpdir(), 'conn-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

function problems(env: Record<string, string>): string[] {
  try {
    parseConnections(env);
    return [];
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
}

describe('connection settings', () => {
  it('is plaintext and anonymous with nothing set', () => {
    expect(parseConnections({})).toEqual({ kafka: { protocol: 'PLAINTEXT' }, registry: {}, redis: {} });
  });

  it('builds SASL_SSL with SCRAM, a CA, and secrets read from files', () => {
    const c = parseConnections({
      KAFKA_SECURITY_PROTOCOL: 'sasl_ssl',
      KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
      KAFKA_SASL_USERNAME: 'booking',
      KAFKA_SASL_PASSWORD_FILE: file('kafka.pw', 'pa55word\n'),
      KAFKA_SSL_CA_FILE: file('ca.pem', PEM),
      SCHEMA_REGISTRY_USERNAME: 'reg',
      SCHEMA_REGISTRY_PASSWORD: 'regpw',
      REDIS_URL: 'rediss://127.0.0.1:6395',
      REDIS_USERNAME: 'booking',
      REDIS_PASSWORD_FILE: file('redis.pw', 'r3dis'),
    });
    expect(c.kafka).toEqual({
      protocol: 'SASL_SSL',
      ssl: { ca: [PEM] },
      sasl: { mechanism: 'scram-sha-512', username: 'booking', password: 'pa55word' },
    });
    expect(registryHeaders(c.registry)).toEqual({
      authorization: `Basic ${Buffer.from('reg:regpw').toString('base64')}`,
    });
    expect(c.redis).toEqual({ username: 'booking', password: 'r3dis', tls: {} });
    expect(registryHeaders({ token: 't0k' })).toEqual({ authorization: 'Bearer t0k' });
  });

  it('names every problem at once, and never a secret', () => {
    const p = problems({
      KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
      KAFKA_SASL_MECHANISM: 'gssapi',
      KAFKA_SASL_PASSWORD: 'top-secret-value',
      KAFKA_SASL_PASSWORD_FILE: join(dir, 'nope'),
      KAFKA_SSL_CERT_FILE: file('cert.pem', PEM),
      SCHEMA_REGISTRY_USERNAME: 'u',
      REDIS_TLS_CA_FILE: file('ca2.pem', PEM),
      REDIS_URL: 'redis://127.0.0.1:6379',
    });
    expect(p).toEqual([
      'KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE: set both for a client certificate, or neither',
      'KAFKA_SASL_PASSWORD and KAFKA_SASL_PASSWORD_FILE are both set: set one',
      'KAFKA_SASL_MECHANISM: one of plain, scram-sha-256, scram-sha-512 (required with SASL_SSL)',
      'KAFKA_SASL_USERNAME: required with SASL_SSL',
      'KAFKA_SASL_PASSWORD (or KAFKA_SASL_PASSWORD_FILE): required with SASL_SSL',
      'SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD: set both for basic auth, or neither',
      'REDIS_TLS_CA_FILE: set, but REDIS_URL is not rediss:// (no TLS)',
    ]);
    expect(p.join('\n')).not.toContain('top-secret-value');
    expect(problems({ KAFKA_SECURITY_PROTOCOL: 'TLS' })).toEqual([
      'KAFKA_SECURITY_PROTOCOL: one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL',
    ]);
    expect(problems({ KAFKA_SASL_USERNAME: 'x' })).toEqual([
      'KAFKA_SASL_*: set, but KAFKA_SECURITY_PROTOCOL is PLAINTEXT: use SASL_SSL or SASL_PLAINTEXT',
    ]);
    expect(problems({ KAFKA_SSL_CA_FILE: file('not-pem', 'hello'), KAFKA_SECURITY_PROTOCOL: 'SSL' })).toEqual(
      [`KAFKA_SSL_CA_FILE: ${join(dir, 'not-pem')} holds no PEM certificate`],
    );
  });

  it('explains the connection errors kafkajs, TLS and Redis raise', () => {
    const c = parseConnections({
      KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
      KAFKA_SASL_MECHANISM: 'scram-sha-256',
      KAFKA_SASL_USERNAME: 'booking',
      KAFKA_SASL_PASSWORD: 'x',
    });
    const sasl = Object.assign(new Error('SASL SCRAM SHA256 authentication failed: invalid credentials'), {
      name: 'KafkaJSSASLAuthenticationError',
    });
    expect(explainConnectionError(sasl, c)).toMatch(
      /^Kafka refused the credentials: SCRAM-SHA-256 authentication of user "booking"/,
    );
    const tls = Object.assign(new Error('KafkaJSNumberOfRetriesExceeded'), {
      cause: new Error('Connection error: self-signed certificate in certificate chain'),
    });
    expect(explainConnectionError(tls, c)).toMatch(
      /Kafka's TLS certificate is not trusted .*KAFKA_SSL_CA_FILE/,
    );
    const closed = Object.assign(new Error('retries exceeded'), { cause: new Error('Closed connection') });
    expect(explainConnectionError(closed, parseConnections({}))).toMatch(/plaintext client/);
    expect(explainConnectionError(new Error('WRONGPASS invalid username-password pair'), c)).toMatch(
      /^Redis refused/,
    );
    expect(explainConnectionError(new Error('something else'), c)).toBeUndefined();
  });
});
