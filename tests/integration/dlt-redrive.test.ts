// DLT redrive on the real stack (issue 6): a dead-lettered appointment is redriven into the first
// retry topic and reaches a terminal state with one booking; the same dead letter, now settled, is
// refused; a dry run sends nothing; the command lists and shows dead letters with personal data masked.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { readDeadLetters, redrive } from '@booking/dlt';
import { ProviderClient } from '@booking/kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kafkaClient, redisClient, serde, stack } from '../support/helpers.js';
import { type Pipeline, requestBody, startPipeline, TOKEN } from '../support/pipeline.js';
import { TEST_PII } from '../support/test-data.js';

const run = promisify(execFile);
const cli = fileURLToPath(new URL('../../tools/dlt/dist/cli.js', import.meta.url));
let p: Pipeline;
let appointmentId: string;
const redis = redisClient();
const kafka = kafkaClient();

const deps = () => ({
  kafka,
  serde: serde(),
  redis,
  provider: new ProviderClient({ baseUrl: p.mockUrl, token: TOKEN, timeoutMs: 5000 }),
  topics: p.topics,
  retryDelaysMs: [300, 1200],
  projectionPrefix: p.projectionPrefix,
});
const letters = async () =>
  (await readDeadLetters(kafka, serde(), p.topics.dlt)).filter(
    (e) => e.value.appointmentId === appointmentId,
  );

beforeAll(async () => {
  p = await startPipeline('redrive');
  // No reconciler: the dead letter stays DEAD_LETTERED, as when reconciliation is down or behind.
  await p.reconciler.stop();
  // cal-flaky-3: three 503s (MAX_ATTEMPTS 3 here), so it is dead-lettered; a fourth create succeeds.
  const res = await p.submit(
    requestBody(`cal-flaky-3-${randomUUID().slice(0, 8)}`),
    `redrive-${randomUUID()}`,
  );
  appointmentId = ((await res.json()) as { appointmentId: string }).appointmentId;
  await p.waitForState(appointmentId, 'DEAD_LETTERED', 30_000);
});
afterAll(async () => {
  redis.disconnect();
  await p?.stop();
});

describe('DLT redrive', () => {
  it('a dry run checks and sends nothing', async () => {
    const [letter] = await letters();
    expect(letter).toBeDefined();
    const [r] = await redrive(deps(), [letter!], { dryRun: true });
    expect(r!.decision).toEqual({ redrive: true });
    expect(r!.sentTo).toBeUndefined();
    expect((await p.view(appointmentId))!.state).toBe('DEAD_LETTERED');
  });

  it('redrives one dead letter per appointment in a run, the same one named twice included (issue 12)', async () => {
    const [letter] = await letters();
    const results = await redrive(deps(), [letter!, letter!], { dryRun: true });
    expect(results.map((r) => r.decision.redrive)).toEqual([true, false]);
    expect(results[1]!.decision).toMatchObject({ why: expect.stringMatching(/same appointment/) });
  });

  it('brings a dead-lettered appointment to CONFIRMED through the first retry topic, with one booking', async () => {
    const [letter] = await letters();
    const [r] = await redrive(deps(), [letter!], { dryRun: false });
    expect(r!.sentTo).toBe(`${p.topics.requested}.retry-300ms`);
    const view = await p.waitForState(appointmentId, 'CONFIRMED', 30_000);
    expect(view.history.some((h) => h.from === 'DEAD_LETTERED' && h.to === 'RETRY_SCHEDULED')).toBe(true);
    expect(await p.ledger(appointmentId)).toHaveLength(1);
  });

  it('refuses the same dead letter once the appointment is settled, and sends nothing', async () => {
    const [letter] = await letters();
    const callsBefore = (await p.calls({ method: 'POST', externalRef: appointmentId })).length;
    const [r] = await redrive(deps(), [letter!], { dryRun: false });
    expect(r!.decision).toEqual({ redrive: false, why: expect.stringMatching(/already CONFIRMED/) });
    expect(r!.sentTo).toBeUndefined();
    expect((await p.calls({ method: 'POST', externalRef: appointmentId })).length).toBe(callsBefore);
    expect(await p.doubleBooked()).toEqual([]);
  });

  it('the command lists by reason and shows a record decoded with personal data masked', async () => {
    const env = {
      ...process.env,
      KAFKA_BROKERS: stack().kafkaBrokers,
      SCHEMA_REGISTRY_URL: stack().schemaRegistryUrl,
      TOPIC_PREFIX: p.topics.dlt.slice(0, -'appointments.dlt.v1'.length),
    };
    const list = await run(process.execPath, [cli, 'list', '--reason', 'RETRIES_EXHAUSTED', '--json'], {
      env,
    });
    const rows = JSON.parse(list.stdout) as { ref: string; appointmentId: string; reason: string }[];
    const mine = rows.find((r) => r.appointmentId === appointmentId);
    expect(mine?.reason).toBe('RETRIES_EXHAUSTED');
    const show = await run(process.execPath, [cli, 'show', mine!.ref], { env });
    expect(show.stdout).toContain('[REDACTED]');
    // The same reference twice is refused before anything is read or sent (issue 12).
    const twice = await run(process.execPath, [cli, 'redrive', mine!.ref, mine!.ref], {
      env: { ...env, REDIS_URL: stack().redisUrl, PROVIDER_URL: p.mockUrl, PROVIDER_TOKEN: TOKEN },
    }).catch((err: { code: number; stderr: string }) => err);
    expect((twice as { code: number }).code).not.toBe(0);
    expect((twice as { stderr: string }).stderr).toMatch(/given more than once/);
    for (const secret of [...TEST_PII.names, ...TEST_PII.phones, ...TEST_PII.emails])
      expect(show.stdout).not.toContain(secret);
  });
});
