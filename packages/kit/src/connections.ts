// How every service and tool connects to a cluster that needs TLS and authentication (issue 18),
// configured the way the ecosystem does it and read in one place from the environment:
//
//   KAFKA_SECURITY_PROTOCOL   PLAINTEXT (default) | SSL | SASL_PLAINTEXT | SASL_SSL
//   KAFKA_SASL_MECHANISM      plain | scram-sha-256 | scram-sha-512   (SASL_* only)
//   KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD (or KAFKA_SASL_PASSWORD_FILE)
//   KAFKA_SSL_CA_FILE         the CA that signed the brokers' certificates (the system's when unset)
//   KAFKA_SSL_CERT_FILE, KAFKA_SSL_KEY_FILE   a client certificate and key (mTLS)
//   SCHEMA_REGISTRY_USERNAME, SCHEMA_REGISTRY_PASSWORD(_FILE)   basic auth, or
//   SCHEMA_REGISTRY_TOKEN(_FILE)                               a bearer token
//   SCHEMA_REGISTRY_CA_FILE   for an https registry signed by a private CA
//   REDIS_USERNAME, REDIS_PASSWORD(_FILE)   an ACL user / requirepass (or in REDIS_URL)
//   REDIS_TLS_CA_FILE         for rediss:// signed by a private CA
//
// A secret can always come from a file (`*_FILE`, as container platforms mount them). Every
// problem is reported at start, one line each, and no value is ever logged or echoed back.
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import type { ConnectionOptions } from 'node:tls';
import type { SASLOptions } from 'kafkajs';
import { ConfigError } from './errors.js';

type Env = Record<string, string | undefined>;

export type KafkaSecurityProtocol = 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL';
const PROTOCOLS: KafkaSecurityProtocol[] = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'];
const MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;

export interface Connections {
  kafka: { protocol: KafkaSecurityProtocol; ssl?: ConnectionOptions; sasl?: SASLOptions };
  registry: { auth?: { username: string; password: string }; token?: string; agent?: Agent };
  redis: { username?: string; password?: string; tls?: ConnectionOptions };
}

/** Reads `name` or the file `name_FILE` names; a problem is pushed when both or an unreadable file. */
function secret(env: Env, name: string, problems: string[]): string | undefined {
  const direct = env[name];
  const file = env[`${name}_FILE`];
  if (direct && file) {
    problems.push(`${name} and ${name}_FILE are both set: set one`);
    return undefined;
  }
  if (file) {
    try {
      const v = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
      if (!v) problems.push(`${name}_FILE: ${file} is empty`);
      return v || undefined;
    } catch (err) {
      problems.push(`${name}_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      return undefined;
    }
  }
  return direct || undefined;
}

function pemFile(env: Env, name: string, problems: string[], kind: 'CERTIFICATE' | 'PRIVATE KEY') {
  const file = env[name];
  if (!file) return undefined;
  try {
    const text = readFileSync(file, 'utf8');
    if (
      !text.includes('-----BEGIN') ||
      !text.includes(kind === 'CERTIFICATE' ? 'CERTIFICATE' : 'PRIVATE KEY')
    )
      problems.push(`${name}: ${file} holds no PEM ${kind.toLowerCase()}`);
    return text;
  } catch (err) {
    problems.push(`${name}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    return undefined;
  }
}

/** Parses and checks the connection variables; throws one ConfigError naming every problem. */
export function parseConnections(env: Env = process.env): Connections {
  const problems: string[] = [];
  const raw = (env.KAFKA_SECURITY_PROTOCOL ?? 'PLAINTEXT').toUpperCase();
  const protocol = PROTOCOLS.includes(raw as KafkaSecurityProtocol)
    ? (raw as KafkaSecurityProtocol)
    : undefined;
  if (!protocol) problems.push(`KAFKA_SECURITY_PROTOCOL: one of ${PROTOCOLS.join(', ')}`);
  const useTls = protocol === 'SSL' || protocol === 'SASL_SSL';
  const useSasl = protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL';

  const ca = pemFile(env, 'KAFKA_SSL_CA_FILE', problems, 'CERTIFICATE');
  const cert = pemFile(env, 'KAFKA_SSL_CERT_FILE', problems, 'CERTIFICATE');
  const key = pemFile(env, 'KAFKA_SSL_KEY_FILE', problems, 'PRIVATE KEY');
  if (!!env.KAFKA_SSL_CERT_FILE !== !!env.KAFKA_SSL_KEY_FILE)
    problems.push(
      'KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE: set both for a client certificate, or neither',
    );
  if (!useTls && (env.KAFKA_SSL_CA_FILE || env.KAFKA_SSL_CERT_FILE))
    problems.push(`KAFKA_SSL_*: set, but KAFKA_SECURITY_PROTOCOL is ${raw} (no TLS): use SSL or SASL_SSL`);

  let sasl: SASLOptions | undefined;
  const mechanism = env.KAFKA_SASL_MECHANISM?.toLowerCase();
  const username = env.KAFKA_SASL_USERNAME;
  const password = secret(env, 'KAFKA_SASL_PASSWORD', problems);
  if (useSasl) {
    if (!mechanism || !(MECHANISMS as readonly string[]).includes(mechanism))
      problems.push(`KAFKA_SASL_MECHANISM: one of ${MECHANISMS.join(', ')} (required with ${raw})`);
    if (!username) problems.push(`KAFKA_SASL_USERNAME: required with ${raw}`);
    if (!password) problems.push(`KAFKA_SASL_PASSWORD (or KAFKA_SASL_PASSWORD_FILE): required with ${raw}`);
    if (mechanism && username && password && (MECHANISMS as readonly string[]).includes(mechanism))
      sasl = { mechanism, username, password } as SASLOptions;
  } else if (mechanism || username || password) {
    problems.push(`KAFKA_SASL_*: set, but KAFKA_SECURITY_PROTOCOL is ${raw}: use SASL_SSL or SASL_PLAINTEXT`);
  }

  const regUser = env.SCHEMA_REGISTRY_USERNAME;
  const regPassword = secret(env, 'SCHEMA_REGISTRY_PASSWORD', problems);
  const regToken = secret(env, 'SCHEMA_REGISTRY_TOKEN', problems);
  if (!!regUser !== !!regPassword)
    problems.push(
      'SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD: set both for basic auth, or neither',
    );
  if (regToken && regUser)
    problems.push('SCHEMA_REGISTRY_TOKEN and SCHEMA_REGISTRY_USERNAME: choose one way to authenticate');
  const regCa = pemFile(env, 'SCHEMA_REGISTRY_CA_FILE', problems, 'CERTIFICATE');

  const redisPassword = secret(env, 'REDIS_PASSWORD', problems);
  const redisCa = pemFile(env, 'REDIS_TLS_CA_FILE', problems, 'CERTIFICATE');
  if (env.REDIS_USERNAME && !redisPassword)
    problems.push('REDIS_USERNAME: needs REDIS_PASSWORD (or REDIS_PASSWORD_FILE)');
  if (redisCa && env.REDIS_URL && !env.REDIS_URL.startsWith('rediss://'))
    problems.push('REDIS_TLS_CA_FILE: set, but REDIS_URL is not rediss:// (no TLS)');

  if (problems.length) throw new ConfigError(problems);
  return {
    kafka: {
      protocol: protocol!,
      ...(useTls ? { ssl: { ...(ca ? { ca: [ca] } : {}), ...(cert && key ? { cert, key } : {}) } } : {}),
      ...(sasl ? { sasl } : {}),
    },
    registry: {
      ...(regUser && regPassword ? { auth: { username: regUser, password: regPassword } } : {}),
      ...(regToken ? { token: regToken } : {}),
      ...(regCa ? { agent: new Agent({ ca: regCa, keepAlive: true }) } : {}),
    },
    redis: {
      ...(env.REDIS_USERNAME ? { username: env.REDIS_USERNAME } : {}),
      ...(redisPassword ? { password: redisPassword } : {}),
      ...(env.REDIS_URL?.startsWith('rediss://') ? { tls: { ...(redisCa ? { ca: [redisCa] } : {}) } } : {}),
    },
  };
}

let current: Connections | undefined;

/** This process's connections, from its environment (parsed once; a ConfigError on a bad one). */
export function connections(): Connections {
  current ??= parseConnections(process.env);
  return current;
}

/** Headers for a request to the schema registry (its basic auth or bearer token). */
export function registryHeaders(c: Connections['registry'] = connections().registry): Record<string, string> {
  if (c.token) return { authorization: `Bearer ${c.token}` };
  if (c.auth)
    return {
      authorization: `Basic ${Buffer.from(`${c.auth.username}:${c.auth.password}`).toString('base64')}`,
    };
  return {};
}

/** ioredis options for this process's Redis (ACL user or password, TLS for rediss://). */
export function redisConnectionOptions(): Connections['redis'] {
  return connections().redis;
}

/** The chain of causes of an error (kafkajs wraps the one that matters). */
function causes(err: unknown): { name: string; message: string; code?: string }[] {
  const out: { name: string; message: string; code?: string }[] = [];
  let e: unknown = err;
  for (let i = 0; e && i < 6; i++) {
    const x = e as {
      name?: string;
      message?: string;
      code?: string;
      cause?: unknown;
      originalError?: unknown;
    };
    out.push({
      name: String(x.name ?? 'Error'),
      message: String(x.message ?? e),
      ...(x.code ? { code: x.code } : {}),
    });
    e = x.cause ?? x.originalError;
  }
  return out;
}

/**
 * One line an operator can act on for an error met while connecting to Kafka, the registry or
 * Redis (wrong credentials, an untrusted certificate, a plaintext client at a TLS port, …), naming
 * the variables to look at; undefined when the error is not a connection problem. No secret in it.
 */
export function explainConnectionError(err: unknown, c: Connections = connections()): string | undefined {
  const chain = causes(err);
  const text = chain.map((x) => `${x.name}: ${x.message} ${x.code ?? ''}`).join(' | ');
  const sasl = c.kafka.sasl as { mechanism?: string; username?: string } | undefined;
  if (/SASLAuthenticationError|SASL .*authentication failed/i.test(text))
    return `Kafka refused the credentials: ${sasl?.mechanism?.toUpperCase() ?? 'SASL'} authentication of user "${sasl?.username ?? '?'}" failed. Check KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD (or KAFKA_SASL_PASSWORD_FILE) and KAFKA_SASL_MECHANISM.`;
  if (/WRONGPASS|NOAUTH|invalid username-password|AUTH failed/i.test(text))
    return 'Redis refused the credentials: check REDIS_USERNAME and REDIS_PASSWORD (or REDIS_PASSWORD_FILE), or the user and password in REDIS_URL.';
  if (
    /self[- ]signed certificate|unable to verify|unable to get (local )?issuer|certificate has expired|CERT_/i.test(
      text,
    )
  ) {
    const who = /rediss|redis/i.test(text)
      ? 'Redis'
      : /registry|schema/i.test(text)
        ? 'the schema registry'
        : 'Kafka';
    const variable =
      who === 'Redis'
        ? 'REDIS_TLS_CA_FILE'
        : who === 'Kafka'
          ? 'KAFKA_SSL_CA_FILE'
          : 'SCHEMA_REGISTRY_CA_FILE';
    const detail = chain.find((x) => /certificate|CERT_/i.test(`${x.message} ${x.code ?? ''}`))?.message;
    return `${who}'s TLS certificate is not trusted (${detail}): set ${variable} to the CA that signed it.`;
  }
  if (/Hostname\/IP does not match|ERR_TLS_CERT_ALTNAME/i.test(text))
    return "The server's certificate does not name the host connected to: connect by a name the certificate holds.";
  if (
    /Closed connection|ECONNRESET|Connection timeout|socket disconnected/i.test(text) &&
    c.kafka.protocol === 'PLAINTEXT'
  )
    return 'Kafka closed the connection of a plaintext client: the cluster may require TLS or SASL (set KAFKA_SECURITY_PROTOCOL to SSL or SASL_SSL, with KAFKA_SASL_* and KAFKA_SSL_CA_FILE as it needs).';
  if (/EPROTO|wrong version number|packet length too long|SSL routines/i.test(text))
    return 'A TLS client met a server that does not speak TLS on that port: check the port, or set KAFKA_SECURITY_PROTOCOL to PLAINTEXT or SASL_PLAINTEXT if the cluster takes no TLS.';
  if (/\b401\b|Unauthorized/i.test(text) && /registry|schema|40101/i.test(text))
    return 'The schema registry refused the request (401): check SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD (or SCHEMA_REGISTRY_TOKEN).';
  return undefined;
}

/**
 * Runs a command-line entry point: a connection or configuration problem ends it with one clear
 * line on stderr and exit code 1, instead of a stack trace.
 */
export async function runMain(main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (err) {
    process.stderr.write(`${startFailure(err)}\n`);
    process.exit(1);
  }
}

/** The line printed when a start fails: the explanation, the configuration problems, or the error. */
export function startFailure(err: unknown): string {
  if (err instanceof ConfigError) return err.message;
  let explained: string | undefined;
  try {
    explained = explainConnectionError(err);
  } catch {
    explained = undefined;
  }
  return explained ? `cannot connect: ${explained}` : `start failed: ${(err as Error)?.stack ?? String(err)}`;
}
