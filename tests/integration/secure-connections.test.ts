// Issue 18: the pipeline over a secured stack (`./stack/stack.sh up --secure`): Kafka that takes
// SASL_SSL only (SCRAM-SHA-512, a broker certificate from the stack's own CA), the registry behind
// basic auth, Redis over TLS with an ACL user; every secret read from a file. The built services
// (intake, provider-dispatch, audit as processes, configured by environment as a deployment is)
// book end to end over it; a wrong password, an unknown CA, a plaintext client, a wrong Redis or
// registry password each stop a service at start with one clear line, within a bound.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseConnections } from '@booking/kit';
import { createRdkafka } from '@booking/kit/transport';
import { buildMockApp } from '@booking/provider-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, repoPath } from '../support/compare.js';
import { waitFor } from '../support/helpers.js';
import { requestBody } from '../support/pipeline.js';
import { exited, killAll, startService } from '../support/processes.js';

const run = promisify(execFile);
const TOKEN = `secure-token-${randomUUID()}`;
const API_KEY = `secure-key-${randomUUID()}`;
const prefix = `it.secure.${randomUUID().slice(0, 8)}`;
const mock = buildMockApp({ token: TOKEN, pendingMs: 300 });
const scratch = mkdtempSync(join(tmpdir(), 'secure-it-'));
let secure: Record<string, string>;
let common: Record<string, string>;
let intakeUrl: string;

async function stackEnv(): Promise<Record<string, string>> {
  const { stdout } = await run(repoPath('stack/stack.sh'), ['env', '--secure'], { cwd: repoPath('.') });
  return Object.fromEntries(
    stdout
      .trim()
      .split('\n')
      .map(
        (l) =>
          l
            .replace(/^export /, '')
            .split(/=(.*)/s)
            .slice(0, 2) as [string, string],
      ),
  );
}

const healthy = (url: string) =>
  waitFor(
    `${url} healthy`,
    async () => ((await fetch(url).catch(() => undefined))?.status === 200 ? true : null),
    90_000,
  );

/** A built service's start with `env`: its exit code and the lines it wrote, once it exits (bounded). */
async function startFails(entry: string, env: Record<string, string>, name: string) {
  const child = startService(entry, env, `${prefix}.${name}`);
  let out = '';
  child.stdout?.on('data', (c: Buffer) => {
    out += c;
  });
  child.stderr?.on('data', (c: Buffer) => {
    out += c;
  });
  const bound = setTimeout(() => child.kill('SIGKILL'), 60_000);
  await exited(child);
  clearTimeout(bound);
  const lines = out.split('\n').filter((l) => l && !l.startsWith('{'));
  return { code: child.exitCode, signal: child.signalCode, lines };
}

beforeAll(async () => {
  await run(repoPath('stack/stack.sh'), ['up', '--secure'], { cwd: repoPath('.'), timeout: 300_000 });
  secure = await stackEnv();
  await mock.listen({ host: '127.0.0.1', port: 0 });
  const mockUrl = `http://127.0.0.1:${(mock.server.address() as { port: number }).port}`;
  common = {
    ...secure,
    TOPIC_PREFIX: `${prefix}.`,
    PROJECTION_PREFIX: `${prefix}:apt:`,
    PROVIDER_URL: mockUrl,
    PROVIDER_TOKEN: TOKEN,
    RETRY_DELAYS_MS: '300,1200',
    SHUTDOWN_TIMEOUT_MS: '5000',
  };
  // The topics and schemas, created over SASL_SSL and the authenticated registry.
  await run(process.execPath, [repoPath('packages/kit/dist/bin/bootstrap.js')], {
    env: { ...process.env, ...common },
    timeout: 120_000,
  });
  const [intakePort, dispatchPort, auditPort] = [await freePort(), await freePort(), await freePort()];
  intakeUrl = `http://127.0.0.1:${intakePort}`;
  startService(
    'services/intake/dist/main.js',
    {
      ...common,
      INTAKE_HTTP_PORT: String(intakePort),
      INTAKE_API_KEYS: API_KEY,
      GROUP_PREFIX: `${prefix}.intake`,
    },
    `${prefix}.intake`,
  );
  startService(
    'services/provider-dispatch/dist/main.js',
    { ...common, DISPATCH_HTTP_PORT: String(dispatchPort), GROUP_PREFIX: `${prefix}.dispatch` },
    `${prefix}.dispatch`,
  );
  startService(
    'services/audit/dist/main.js',
    {
      ...common,
      AUDIT_HTTP_PORT: String(auditPort),
      GROUP_PREFIX: `${prefix}.audit`,
      AUDIT_LOG_PATH: join(scratch, 'audit.jsonl'),
      INVARIANTS_REPORT_PATH: join(scratch, 'invariants.json'),
    },
    `${prefix}.audit`,
  );
  for (const port of [intakePort, dispatchPort, auditPort]) await healthy(`http://127.0.0.1:${port}/healthz`);
}, 420_000);

afterAll(async () => {
  killAll();
  await mock.close();
});

describe('over SASL_SSL, an authenticated registry and Redis over TLS', () => {
  it('books end to end', async () => {
    const res = await fetch(`${intakeUrl}/v1/appointments`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${API_KEY}`,
        'content-type': 'application/json',
        'idempotency-key': randomUUID(),
      },
      body: JSON.stringify(requestBody(`cal-immediate-${randomUUID().slice(0, 8)}`)),
    });
    expect(res.status).toBe(202);
    const { appointmentId } = (await res.json()) as { appointmentId: string };
    const view = await waitFor(
      'the booking confirmed',
      async () => {
        const r = await fetch(`${intakeUrl}/v1/appointments/${appointmentId}`, {
          headers: { authorization: `Bearer ${API_KEY}` },
        });
        const v = r.status === 200 ? ((await r.json()) as { state: string; bookingId: string | null }) : null;
        return v?.state === 'CONFIRMED' ? v : null;
      },
      60_000,
    );
    expect(view.bookingId).toBeTruthy();
  });

  const wrong = join(scratch, 'wrong.password');
  const otherCa = join(scratch, 'other-ca.pem');
  const refusals: [string, () => Record<string, string>, RegExp][] = [
    [
      'a wrong Kafka password',
      () => ({ KAFKA_SASL_PASSWORD_FILE: wrong }),
      /Kafka refused the credentials: SCRAM-SHA-512 authentication of user "booking" failed/,
    ],
    [
      'an unknown CA',
      () => ({ KAFKA_SSL_CA_FILE: otherCa }),
      /Kafka's TLS certificate is not trusted .*KAFKA_SSL_CA_FILE/,
    ],
    [
      'a plaintext client',
      () => ({
        KAFKA_SECURITY_PROTOCOL: 'PLAINTEXT',
        KAFKA_SASL_MECHANISM: '',
        KAFKA_SASL_USERNAME: '',
        KAFKA_SASL_PASSWORD_FILE: '',
        KAFKA_SSL_CA_FILE: '',
      }),
      /Kafka closed the connection of a plaintext client: the cluster may require TLS or SASL/,
    ],
    ['a wrong Redis password', () => ({ REDIS_PASSWORD_FILE: wrong }), /Redis refused the credentials/],
    [
      'a wrong registry password',
      () => ({ SCHEMA_REGISTRY_PASSWORD_FILE: wrong }),
      /the registry refused the credentials \(401\)/,
    ],
  ];
  for (const [what, env, message] of refusals) {
    it(`refuses ${what} at start with one clear line, and the secret in no line`, async () => {
      writeFileSync(wrong, 'not-the-password\n');
      // Another CA: the broker's certificate is not signed by it.
      await run(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-keyout',
          join(scratch, 'other-ca.key'),
          '-out',
          otherCa,
          '-days',
          '1',
          '-subj',
          '/CN=other',
        ],
        { timeout: 30_000 },
      );
      const r = await startFails(
        'services/intake/dist/main.js',
        {
          ...common,
          ...env(),
          INTAKE_HTTP_PORT: String(await freePort()),
          INTAKE_API_KEYS: API_KEY,
          GROUP_PREFIX: `${prefix}.refused`,
        },
        `refused-${what.replace(/\W+/g, '-')}`,
      );
      expect(r.signal).toBeNull(); // it exited on its own, not at the test's bound
      expect(r.code).toBe(1);
      expect(r.lines.join('\n')).toMatch(message);
      expect(r.lines.join('\n')).not.toContain('not-the-password');
    }, 90_000);
  }

  it('librdkafka (issue 28) connects with the same variables: admin, produce and consume over SASL_SSL', async () => {
    const security = parseConnections(secure).kafka;
    const kafka = createRdkafka({
      clientId: `${prefix}.rdkafka`,
      brokers: secure.KAFKA_BROKERS!.split(','),
      security,
    });
    const topic = `${prefix}.rdkafka-secure`;
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
    await admin.disconnect();
    const producer = kafka.producer({ kafkaJS: { acks: -1 } });
    await producer.connect();
    await producer.send({ topic, messages: [{ key: 'k', value: 'over TLS and SCRAM' }] });
    await producer.disconnect();
    const seen: string[] = [];
    const consumer = kafka.consumer({ kafkaJS: { groupId: `${prefix}.rdkafka`, fromBeginning: true } });
    await consumer.connect();
    await consumer.subscribe({ topic });
    await consumer.run({ eachMessage: async ({ message }) => void seen.push(String(message.value)) });
    try {
      await waitFor('the record over SASL_SSL', () => seen.length > 0, 60_000);
      expect(seen).toEqual(['over TLS and SCRAM']);
    } finally {
      await consumer.disconnect();
    }
  }, 120_000);

  it('reports every bad connection variable at once, before connecting', async () => {
    const r = await startFails(
      'services/intake/dist/main.js',
      {
        ...common,
        KAFKA_SASL_MECHANISM: 'gssapi',
        KAFKA_SSL_CA_FILE: join(scratch, 'missing.pem'),
        SCHEMA_REGISTRY_USERNAME: 'only-a-user',
        SCHEMA_REGISTRY_PASSWORD_FILE: '',
        INTAKE_HTTP_PORT: String(await freePort()),
        INTAKE_API_KEYS: API_KEY,
      },
      'refused-config',
    );
    expect(r.code).toBe(1);
    const text = r.lines.join('\n');
    expect(text).toContain('KAFKA_SSL_CA_FILE: cannot read');
    expect(text).toContain('KAFKA_SASL_MECHANISM: one of plain, scram-sha-256, scram-sha-512');
    expect(text).toContain('SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD: set both');
  });
});
