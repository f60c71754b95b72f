#!/usr/bin/env node
// Reads stack/manifest.json for stack/stack.sh and writes docker-compose.yml from it, so the
// no-Docker stack, compose and the tests' setup describe the same parts.
//   node stack/manifest.mjs get kafka.version      one value
//   node stack/manifest.mjs services|shadow          NAME|PORT|ENTRY lines
//   node stack/manifest.mjs second                  NAME|PORT|ENTRY|PORT_VARIABLE lines (second instances)
//   node stack/manifest.mjs port NAME               a service's port (NAME-2: its second instance)
//   node stack/manifest.mjs shadow-env              VARIABLE=PORT lines of the shadow deployment
//   node stack/manifest.mjs compose [--check]       write docker-compose.yml (--check: exit 1 if it differs)
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const manifest = JSON.parse(readFileSync(join(ROOT, 'stack', 'manifest.json'), 'utf8'));

const HEADER = `# GENERATED from stack/manifest.json by \`npm run compose\`: edit the manifest, not this file.
# The same parts as ./stack/stack.sh, as containers, for machines with a Docker engine:
#   docker compose up -d --wait kafka registry redis           (the stack only; or STACK=docker ./stack/stack.sh up)
#   docker compose --profile services up -d --wait             (and every service, the lag page and the mock)
# Here the schema registry is a real Apicurio Registry (Confluent-compatible API at
# ${manifest.registry.path}), where the no-Docker stack runs the project's local-only stand-in
# (docs/stack.md explains why). Ports match the local stack, so nothing else changes.
# Set INTAKE_API_KEY and PROVIDER_TOKEN to override the local defaults.
`;

/** The compose document, as an object (docker-compose.yml is its YAML). */
export function composeDocument(m = manifest) {
  const k = m.kafka;
  const r = m.registry;
  const stackEnv = {
    KAFKA_BROKERS: `kafka:${k.internalPort}`,
    SCHEMA_REGISTRY_URL: `http://registry:${r.containerPort}${r.path}`,
    REDIS_URL: `redis://redis:${m.redis.containerPort}`,
    // biome-ignore lint/suspicious/noTemplateCurlyInString: compose interpolates it, with a default
    INTAKE_API_KEY: '${INTAKE_API_KEY:-local-docker-intake-key-change-me}',
    PROVIDER_URL: 'http://provider-mock:4010',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: compose interpolates it, with a default
    PROVIDER_TOKEN: '${PROVIDER_TOKEN:-local-docker-provider-token}',
  };
  const mock = m.services.find((s) => s.name === 'provider-mock');
  stackEnv.PROVIDER_URL = `http://provider-mock:${mock.port}`;
  const health = (port) => ({
    test: [
      'CMD',
      'node',
      '-e',
      `fetch('http://127.0.0.1:${port}/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`,
    ],
    interval: '3s',
    timeout: '3s',
    retries: 40,
  });
  const services = {
    kafka: {
      image: `\${KAFKA_IMAGE:-${k.image}}`,
      ports: [`127.0.0.1:${k.port}:${k.port}`],
      environment: kafkaContainerEnv(m),
      healthcheck: {
        test: [
          'CMD-SHELL',
          `/opt/kafka/bin/kafka-broker-api-versions.sh --bootstrap-server 127.0.0.1:${k.port} >/dev/null 2>&1`,
        ],
        interval: '5s',
        timeout: '10s',
        retries: 30,
      },
    },
    registry: {
      image: `\${REGISTRY_IMAGE:-${r.image}}`,
      depends_on: { kafka: { condition: 'service_healthy' } },
      ports: [`127.0.0.1:${r.port}:${r.containerPort}`],
      environment: {
        APICURIO_STORAGE_KIND: 'kafkasql',
        APICURIO_KAFKASQL_BOOTSTRAP_SERVERS: `kafka:${k.internalPort}`,
      },
      healthcheck: {
        test: ['CMD-SHELL', `curl -fsS http://127.0.0.1:${r.containerPort}${r.path}/subjects >/dev/null`],
        interval: '5s',
        timeout: '5s',
        retries: 40,
      },
    },
    redis: {
      image: `\${REDIS_IMAGE:-${m.redis.image}}`,
      command: ['redis-server', ...m.redis.args],
      volumes: ['redis-data:/data'],
      ports: [`127.0.0.1:${m.redis.port}:${m.redis.containerPort}`],
      healthcheck: { test: ['CMD', 'redis-cli', 'ping'], interval: '3s', timeout: '3s', retries: 20 },
    },
    bootstrap: {
      profiles: ['services'],
      build: { context: '.', args: { ENTRY: 'packages/kit/dist/bin/bootstrap.js' } },
      depends_on: { registry: { condition: 'service_healthy' } },
      environment: stackEnv,
    },
  };
  for (const s of m.services) {
    const isMock = s.name === 'provider-mock';
    services[s.name] = {
      profiles: ['services'],
      build: { context: '.', args: { ENTRY: s.entry } },
      depends_on: isMock
        ? {}
        : {
            bootstrap: { condition: 'service_completed_successfully' },
            redis: { condition: 'service_healthy' },
            'provider-mock': { condition: 'service_healthy' },
          },
      ports: [`127.0.0.1:${s.port}:${s.port}`],
      environment: {
        ...(isMock ? { PROVIDER_TOKEN: stackEnv.PROVIDER_TOKEN } : stackEnv),
        [s.hostVar]: '0.0.0.0',
        [s.portVar]: String(s.port),
        ...(s.name === 'audit' ? { AUDIT_LOG_PATH: '/app/logs/audit.jsonl' } : {}),
      },
      ...(s.name === 'audit' ? { volumes: ['audit-data:/app/logs'] } : {}),
      healthcheck: health(s.port),
    };
    if (isMock) delete services[s.name].depends_on;
  }
  return { services, volumes: { 'redis-data': {}, 'audit-data': {} } };
}

/** One node, broker and controller, with an internal listener for the other containers. */
export function kafkaContainerEnv(m = manifest) {
  const k = m.kafka;
  return {
    KAFKA_NODE_ID: '1',
    KAFKA_PROCESS_ROLES: 'broker,controller',
    KAFKA_LISTENERS: `PLAINTEXT://:${k.port},INTERNAL://:${k.internalPort},CONTROLLER://:${k.controllerPort}`,
    KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://127.0.0.1:${k.port},INTERNAL://kafka:${k.internalPort}`,
    KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,INTERNAL:PLAINTEXT',
    KAFKA_INTER_BROKER_LISTENER_NAME: 'INTERNAL',
    KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
    KAFKA_CONTROLLER_QUORUM_VOTERS: `1@kafka:${k.controllerPort}`,
    KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
    KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
    KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
    KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
    KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
  };
}

export async function composeYaml(m = manifest) {
  const { stringify } = await import('yaml');
  return HEADER + stringify(composeDocument(m), { lineWidth: 0, version: '1.1' });
}

function lines(kind) {
  const out = [];
  for (const s of manifest.services) {
    if (kind === 'services') out.push([s.name, s.port, s.entry]);
    if (kind === 'second' && s.second) out.push([`${s.name}-2`, s.second, s.entry, s.portVar]);
    if (kind === 'shadow' && s.shadow) out.push([s.shadow.name, s.shadow.port, s.entry]);
  }
  return out.map((l) => l.join('|')).join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [cmd, arg] = process.argv.slice(2);
  if (cmd === 'get') {
    const v = arg.split('.').reduce((o, k) => o?.[k], manifest);
    if (v === undefined) {
      process.stderr.write(`manifest: no ${arg}\n`);
      process.exit(2);
    }
    process.stdout.write(`${Array.isArray(v) ? v.join(' ') : v}\n`);
  } else if (cmd === 'port') {
    // The port of a service, its second instance (NAME-2) or its shadow twin, by name.
    const found = manifest.services
      .flatMap((s) => [
        [s.name, s.port],
        [`${s.name}-2`, s.second],
        [s.shadow?.name, s.shadow?.port],
      ])
      .find(([n, port]) => n === arg && port);
    if (!found) {
      process.stderr.write(`manifest: no service ${arg}\n`);
      process.exit(2);
    }
    process.stdout.write(`${found[1]}\n`);
  } else if (cmd === 'shadow-env') {
    // VARIABLE=PORT for every shadow twin: the shadow deployment's ports.
    process.stdout.write(
      `${manifest.services
        .filter((s) => s.shadow)
        .map((s) => `${s.portVar}=${s.shadow.port}`)
        .join('\n')}\n`,
    );
  } else if (cmd === 'services' || cmd === 'second' || cmd === 'shadow') {
    process.stdout.write(`${lines(cmd)}\n`);
  } else if (cmd === 'compose') {
    const file = join(ROOT, 'docker-compose.yml');
    const want = await composeYaml();
    if (arg === '--check') {
      if (readFileSync(file, 'utf8') !== want) {
        process.stderr.write('docker-compose.yml differs from stack/manifest.json: run npm run compose\n');
        process.exit(1);
      }
    } else writeFileSync(file, want);
  } else {
    process.stderr.write(
      'usage: node stack/manifest.mjs get PATH | services | second | shadow | compose [--check]\n',
    );
    process.exit(2);
  }
}
