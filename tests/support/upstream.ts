// Records as an upstream team writes them: with a producer that is not ours (Debian's kcat, on
// librdkafka), its own batching and compression.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { CodecName } from '@booking/kit';
import type { InboundRequest } from '@booking/schemas';
import { kcatPath, stack } from './helpers.js';
import { requestBody } from './pipeline.js';

const run = promisify(execFile);

/** A valid inbound booking request from `source`, with a reason long enough to compress well. */
export function inboundRecord(source: string): InboundRequest {
  const b = requestBody(`cal-immediate-${randomUUID().slice(0, 8)}`);
  return {
    idempotencyKey: `codec-${randomUUID()}`,
    patient: { id: b.patient.id, name: b.patient.name, phone: null, email: null },
    calendarId: b.calendarId,
    slot: b.slot,
    reason: 'a reason long enough to make the batch worth compressing '.repeat(3),
    deadline: null,
    source,
  };
}

/**
 * Writes `values` with kcat as one batch (each file is one record; a long linger keeps them
 * together), compressed with `codec`, all on `key`'s partition.
 */
export async function kcatProduce(
  topic: string,
  key: string,
  codec: CodecName | 'none',
  values: Buffer[],
  extra: string[] = [],
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kcat-'));
  const files = values.map((v, i) => {
    const f = join(dir, `${randomUUID()}-${i}.avro`);
    writeFileSync(f, v);
    return f;
  });
  await run(
    kcatPath(),
    [
      '-P',
      '-b',
      stack().kafkaBrokers,
      '-t',
      topic,
      '-k',
      key,
      '-z',
      codec,
      '-X',
      'linger.ms=200',
      '-X',
      'enable.idempotence=true',
      ...extra,
      ...files,
    ],
    { timeout: 30_000 },
  ).finally(() => rmSync(dir, { recursive: true, force: true }));
}
