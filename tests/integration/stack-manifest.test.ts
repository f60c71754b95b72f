// Issue 19: the stack is described once (stack/manifest.json). docker-compose.yml is generated from
// it and validated by Debian's docker-compose (no engine needed for `config`); stack.sh's services,
// ports and Kafka version, the services' own default ports, the tools' port table and the Maven
// build of the broker all agree with it. Any drift fails here.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { LOCAL_SERVICE_PORTS } from '@booking/kit';
import { describe, expect, it } from 'vitest';
import { composeYaml, manifest } from '../../stack/manifest.mjs';
import { repoPath } from '../support/compare.js';

const COMPOSE_BIN = process.env.DOCKER_COMPOSE ?? '/usr/bin/docker-compose';

function compose(...args: string[]) {
  if (!existsSync(COMPOSE_BIN))
    throw new Error(`${COMPOSE_BIN} is missing: install Debian's docker-compose (run_tests.sh does)`);
  return spawnSync(COMPOSE_BIN, ['-f', repoPath('docker-compose.yml'), '--profile', 'services', ...args], {
    encoding: 'utf8',
    cwd: repoPath('.'),
    env: { ...process.env, DOCKER_HOST: 'unix:///nonexistent' },
  });
}

/** What stack.sh holds once sourced: its service lists and the values it took from the manifest. */
function stackShell(expr: string): string {
  return execFileSync('bash', ['-c', `source stack/stack.sh && ${expr}`], {
    cwd: repoPath('.'),
    encoding: 'utf8',
  });
}

describe('one description of the stack', () => {
  it('docker-compose.yml is what the manifest generates (npm run compose)', async () => {
    expect(readFileSync(repoPath('docker-compose.yml'), 'utf8')).toBe(await composeYaml());
  });

  it('docker-compose validates the file and lists every part: the stack, the five services, lag and the mock', () => {
    const valid = compose('config', '-q');
    expect(valid.stderr).toBe('');
    expect(valid.status).toBe(0);
    const listed = compose('config', '--services');
    expect(listed.status).toBe(0);
    expect(listed.stdout.trim().split('\n').sort()).toEqual(
      ['kafka', 'registry', 'redis', 'bootstrap', ...manifest.services.map((s) => s.name)].sort(),
    );
    for (const name of [
      'intake',
      'provider-dispatch',
      'audit',
      'compensation',
      'reconciler',
      'lag',
      'provider-mock',
    ])
      expect(manifest.services.map((s) => s.name)).toContain(name);
  });

  it('compose runs the Kafka the local stack runs, and Redis with an append-only file', () => {
    const text = compose('config').stdout;
    expect(text).toContain(`image: apache/kafka:${manifest.kafka.version}`);
    expect(manifest.kafka.image).toBe(`apache/kafka:${manifest.kafka.version}`);
    // As docker-compose resolved it: the flag and its value, a string (YAML 1.1 reads a bare yes as true).
    expect(text).toMatch(/- --appendonly\n\s*- "yes"\n\s*- --appendfsync\n\s*- always/);
    expect(manifest.redis.args.join(' ')).toContain('--appendonly yes');
  });

  it("stack.sh's services, ports and Kafka version are the manifest's", () => {
    const lines = (xs: (string | number)[][]) => xs.map((x) => x.join('|'));
    const array = (name: string) => stackShell(`printf "%s\\n" "\${${name}[@]}"`).trim().split('\n');
    expect(array('SERVICES')).toEqual(lines(manifest.services.map((s) => [s.name, s.port, s.entry])));
    expect(array('SECOND_SERVICES')).toEqual(
      lines(
        manifest.services.filter((s) => s.second).map((s) => [`${s.name}-2`, s.second!, s.entry, s.portVar]),
      ),
    );
    expect(array('SHADOW_SERVICES')).toEqual(
      lines(manifest.services.filter((s) => s.shadow).map((s) => [s.shadow!.name, s.shadow!.port, s.entry])),
    );
    expect(stackShell('echo "$KAFKA_VERSION $KAFKA_PORT $REGISTRY_PORT"').trim()).toBe(
      `${manifest.kafka.version} ${manifest.kafka.port} ${manifest.registry.port}`,
    );
  });

  it("each service's own default port and the broker build's default version are the manifest's", () => {
    for (const s of manifest.services) {
      const dir = s.entry.replace(/\/dist\/main\.js$/, '');
      const sources = [`${dir}/src/config.ts`, `${dir}/src/main.ts`].filter((f) => existsSync(repoPath(f)));
      const text = sources.map((f) => readFileSync(repoPath(f), 'utf8')).join('\n');
      expect(text, s.name).toContain(s.portVar);
      expect(text, s.name).toMatch(new RegExp(`${s.portVar}[^\\n]*\\b${s.port}\\b`));
    }
    const pom = readFileSync(repoPath('stack/kafka/pom.xml'), 'utf8');
    expect(pom).toContain(`<kafka.version>${manifest.kafka.version}</kafka.version>`);
  });

  it("the tools' table of the local services' ports (the invariant checker, chaos, lag) is the manifest's", () => {
    const ports = Object.fromEntries(
      manifest.services.filter((s) => s.name in LOCAL_SERVICE_PORTS).map((s) => [s.name, s.port]),
    );
    expect(ports).toEqual(LOCAL_SERVICE_PORTS);
    expect(Object.keys(LOCAL_SERVICE_PORTS).sort()).toEqual([
      'audit',
      'compensation',
      'intake',
      'provider-dispatch',
      'reconciler',
    ]);
  });
});
