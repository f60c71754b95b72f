// Issue 20: no consumer stays dead behind a green /healthz. A consumer stopped on purpose, and one
// whose handler hangs (its record stays open, so nothing past it can be committed), each turn
// /healthz red, are started again by the runtime (counted in booking_consumer_restarts_total), and
// then handle what waited.
import { randomUUID } from 'node:crypto';
import {
  buildOpsServer,
  type ConsumerHealth,
  ConsumerRuntime,
  createMetricsRegistry,
  createProducer,
  type Emit,
} from '@booking/kit';
import { SCHEMAS } from '@booking/schemas';
import type { Consumer } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import {
  cleanupAfterEach,
  createTestTopic,
  kafkaClient,
  logger,
  providerPoll,
  serde,
  unique,
  waitFor,
} from '../support/helpers.js';

const poll = providerPoll;
const stops = cleanupAfterEach();

async function supervised(handle: (id: string) => Promise<Emit[]>) {
  const kafka = kafkaClient();
  const avro = serde();
  const spec = await createTestTopic(kafka, 'ProviderPoll', 1);
  await avro.register(spec.name, SCHEMAS.ProviderPoll);
  const registry = createMetricsRegistry('supervision-it');
  const runtime = new ConsumerRuntime<{ appointmentId: string }>({
    name: 'supervised',
    kafka,
    groupId: unique('group'),
    topics: [spec.name],
    schema: 'ProviderPoll',
    serde: avro,
    logger,
    metrics: registry,
    stuckAfterMs: 2000,
    handle: (r) => handle(r.value.appointmentId),
    onPoison: () => [],
  });
  const ops = buildOpsServer({ registry, health: async () => ({ consumer: runtime.health() }) });
  const producer = createProducer(kafka);
  await producer.connect();
  await runtime.start();
  stops.push(
    () => runtime.stop(5000),
    () => producer.disconnect(),
    () => ops.close(),
  );
  const produce = async (id: string) =>
    producer.send({
      topic: spec.name,
      acks: -1,
      messages: [{ key: id, value: await avro.encode(spec.name, poll(id)) }],
    });
  const healthz = async () => {
    const res = await ops.inject({ method: 'GET', url: '/healthz' });
    return {
      status: res.statusCode,
      consumer: (res.json() as { checks: { consumer: ConsumerHealth } }).checks.consumer,
    };
  };
  const restarts = async (cause: string) => {
    const text = await registry.metrics();
    const line = text
      .split('\n')
      .find((l) => l.startsWith('booking_consumer_restarts_total') && l.includes(`cause="${cause}"`));
    return line ? Number(line.split(' ').at(-1)) : 0;
  };
  return { runtime, produce, healthz, restarts };
}

describe('consumer supervision', () => {
  it('a consumer stopped on purpose turns /healthz red, is started again and consumes', {
    timeout: 90_000,
  }, async () => {
    const handled = new Set<string>();
    const s = await supervised(async (id) => {
      handled.add(id);
      return [];
    });
    await s.produce('before');
    await waitFor('the first record handled', () => handled.has('before'), 30_000);
    expect((await s.healthz()).status).toBe(200);

    // As kafkajs does when it gives up on a consumer: stopped, and nobody starts it again.
    await (s.runtime as unknown as { inc: { consumer: Consumer } }).inc.consumer.stop();
    const red = await waitFor(
      '/healthz to turn red',
      async () => {
        const h = await s.healthz();
        return h.status === 503 ? h : null;
      },
      10_000,
    );
    expect(red.consumer.running).toBe(false);
    await s.produce('after');

    await waitFor('the record sent while it was stopped handled', () => handled.has('after'), 45_000);
    const green = await waitFor(
      '/healthz green again',
      async () => {
        const h = await s.healthz();
        return h.status === 200 ? h : null;
      },
      10_000,
    );
    expect(green.consumer.restarts).toBeGreaterThanOrEqual(1);
    expect(await s.restarts('stopped')).toBeGreaterThanOrEqual(1);
  });

  it('a consumer whose handler hangs is reported stuck, restarted in place, and goes on', {
    timeout: 90_000,
  }, async () => {
    const handled = new Set<string>();
    let hang = true;
    const s = await supervised(async (id) => {
      if (id === 'hangs' && hang) {
        hang = false;
        return new Promise<Emit[]>(() => undefined); // never settles: a wedged dependency call
      }
      handled.add(id);
      return [];
    });
    await s.produce('hangs');
    await s.produce(`next-${randomUUID().slice(0, 4)}`);
    const red = await waitFor(
      '/healthz to report the consumer stuck or restarting',
      async () => {
        const h = await s.healthz();
        return h.status === 503 ? h : null;
      },
      30_000,
    );
    expect(red.consumer.stuck || !red.consumer.running).toBe(true);
    await waitFor('the hung record handled after the restart', () => handled.has('hangs'), 45_000);
    expect(await s.restarts('stuck')).toBeGreaterThanOrEqual(1);
    await waitFor('/healthz green again', async () => (await s.healthz()).status === 200, 15_000);
  });
});
