// The example upstream producer (examples/producer/produce.mjs, docs/producers.md) works as written:
// run as its own process against the real broker and registry, its records become appointments.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { appointmentIdFor } from '@booking/kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stack } from '../support/helpers.js';
import { type Pipeline, startPipeline } from '../support/pipeline.js';

const run = promisify(execFile);
const script = fileURLToPath(new URL('../../examples/producer/produce.mjs', import.meta.url));

let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline('producer');
});
afterAll(async () => {
  await p?.stop();
});

describe('the example producer', () => {
  it('publishes requests the pipeline accepts and books once each', async () => {
    const { stdout } = await run(
      process.execPath,
      [script, '--count', '2', '--calendar', 'cal-immediate-example'],
      {
        env: {
          ...process.env,
          KAFKA_BROKERS: stack().kafkaBrokers,
          SCHEMA_REGISTRY_URL: stack().schemaRegistryUrl,
          TOPIC: p.topics.inbound,
          SOURCE: 'example-it',
        },
      },
    );
    const sent = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { idempotencyKey: string; source: string });
    expect(sent).toHaveLength(2);
    for (const s of sent) {
      const id = appointmentIdFor(`kafka:${s.source}`, s.idempotencyKey);
      await p.waitForState(id, 'CONFIRMED', 30_000);
      expect(await p.ledger(id)).toHaveLength(1);
    }
  });
});
