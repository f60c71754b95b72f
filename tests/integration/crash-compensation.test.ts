// Crash test: 300 bookings the pipeline no longer wants (found by the reconciler after their
// deadline) are compensated while the compensation process is killed with SIGKILL mid-batch and
// restarted. Every one must end COMPENSATED with its booking cancelled, none cancelled twice into a
// wrong state, and the invariants hold. Figures go to results/crash-compensation.json.
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AvroSerde, countsByState, createProducer, createSchemaRegistry, lifecycleEvent } from '@booking/kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kafkaClient, redisClient, stack, waitFor } from '../support/helpers.js';
import { deadLetterFixture, type Pipeline, startPipeline } from '../support/pipeline.js';
import { exited, killAll, startService } from '../support/processes.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const N = 300;
let p: Pipeline;
const producer = createProducer(kafkaClient());
const redis = redisClient();
beforeAll(async () => {
  p = await startPipeline('crash-comp', { externalCompensation: true });
  await producer.connect();
});
afterAll(async () => {
  killAll();
  await producer.disconnect();
  redis.disconnect();
  await p?.stop();
});

const compensated = async () => (await countsByState(redis, p.projectionPrefix)).COMPENSATED ?? 0;
const startCompensation = (n: number) =>
  startService(
    'services/compensation/dist/main.js',
    p.compensationEnv,
    `${p.topics.compensation}.child-${n}`,
  );

describe('crash: compensation killed with SIGKILL mid-batch', () => {
  it('compensates every unwanted booking exactly into COMPENSATED', { timeout: 240_000 }, async () => {
    const serde = new AvroSerde(createSchemaRegistry(stack().schemaRegistryUrl));
    const t0 = Date.now();
    const first = startCompensation(1);
    const ids = Array.from({ length: N }, () => randomUUID());
    const past = Date.now() - 60_000;
    // Each: a booking at the provider, REQUESTED -> DEAD_LETTERED, and its dead letter, deadline passed.
    for (const id of ids) await p.bookDirectly(id, `cal-immediate-${id.slice(0, 8)}`);
    const lifecycle = [];
    const letters = [];
    for (const id of ids) {
      for (const e of [
        lifecycleEvent({
          appointmentId: id,
          from: null,
          to: 'REQUESTED',
          actor: 'test',
          correlationId: `c-${id}`,
        }),
        lifecycleEvent({
          appointmentId: id,
          from: 'REQUESTED',
          to: 'DEAD_LETTERED',
          actor: 'test',
          correlationId: `c-${id}`,
          reason: 'RETRIES_EXHAUSTED',
        }),
      ]) {
        lifecycle.push({ key: id, value: await serde.encode(p.topics.lifecycle, e) });
      }
      const letter = deadLetterFixture(id, past, p.topics.requested, past);
      letters.push({ key: id, value: await serde.encode(p.topics.dlt, letter) });
    }
    await producer.sendBatch({
      acks: -1,
      topicMessages: [{ topic: p.topics.lifecycle, messages: lifecycle }],
    });
    await producer.sendBatch({ acks: -1, topicMessages: [{ topic: p.topics.dlt, messages: letters }] });

    await waitFor('50 compensated before the kill', async () => (await compensated()) >= 50, 90_000);
    const compensatedAtKill = await compensated();
    first.kill('SIGKILL');
    await exited(first);
    const killedAt = Date.now();
    startCompensation(2);
    await waitFor(`all ${N} compensated`, async () => (await compensated()) >= N, 150_000);
    const settleMs = Date.now() - killedAt;

    const report = await p.invariantsHold();
    const ours = new Set<string>(ids);
    const ledger = (await p.ledger()).filter((b) => ours.has(b.externalRef));
    const figures = {
      test: 'crash-compensation',
      compensations: N,
      kills: 1,
      compensatedAtKill,
      msFromKillToAllCompensated: settleMs,
      totalMs: Date.now() - t0,
      byState: report.byState,
      bookingsCancelled: ledger.filter((b) => b.status === 'CANCELLED').length,
      deletesSent: (await p.calls({ method: 'DELETE' })).length,
      invariants: report.invariants.map((i) => ({ name: i.name, passed: i.passed })),
    };
    mkdirSync(join(ROOT, 'results'), { recursive: true });
    writeFileSync(join(ROOT, 'results', 'crash-compensation.json'), `${JSON.stringify(figures, null, 2)}\n`);
    expect(report.byState.COMPENSATED).toBe(N);
    expect(report.passed).toBe(true);
    expect(figures.bookingsCancelled).toBe(N);
    expect(figures.deletesSent).toBeGreaterThanOrEqual(N);
  });
});
