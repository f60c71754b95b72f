import { describe, expect, it } from 'vitest';
import { rdkafkaSecurity } from './rdkafka-client.js';

describe('rdkafkaSecurity: the kit settings under librdkafka names', () => {
  it('plaintext', () => {
    expect(rdkafkaSecurity({ protocol: 'PLAINTEXT' })).toEqual({ 'security.protocol': 'plaintext' });
  });
  it('SASL_SSL with SCRAM and a private CA and client certificate', () => {
    const c = rdkafkaSecurity({
      protocol: 'SASL_SSL',
      ssl: { ca: ['CA PEM'], cert: 'CERT PEM', key: Buffer.from('KEY PEM') },
      sasl: { mechanism: 'scram-sha-512', username: 'svc', password: 'pw' },
    });
    expect(c).toEqual({
      'security.protocol': 'sasl_ssl',
      'ssl.ca.pem': 'CA PEM',
      'ssl.certificate.pem': 'CERT PEM',
      'ssl.key.pem': 'KEY PEM',
      'sasl.mechanisms': 'SCRAM-SHA-512',
      'sasl.username': 'svc',
      'sasl.password': 'pw',
    });
  });
  it('SASL PLAIN without TLS', () => {
    expect(
      rdkafkaSecurity({
        protocol: 'SASL_PLAINTEXT',
        sasl: { mechanism: 'plain', username: 'u', password: 'p' },
      }),
    ).toMatchObject({ 'security.protocol': 'sasl_plaintext', 'sasl.mechanisms': 'PLAIN' });
  });
});
