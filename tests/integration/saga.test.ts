// The saga and reconciliation: the reconciler settles dead letters against the provider (confirm,
// compensate, or FAILED = verified no booking), compensation undoes bookings no longer wanted,
// unattributable poison is quarantined, and stuck appointments are swept.
import { randomUUID } from 'node:crypto';
import { readDeadLetters, redrive } from '@booking/dlt';
import {
  AvroSerde,
  createProducer,
  createSchemaRegistry,
  HEADERS,
  lifecycleEvent,
  ProviderClient,
} from '@booking/kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kafkaClient, redisClient, stack, waitFor } from '../support/helpers.js';
import { deadLetterFixture, type Pipeline, requestBody, startPipeline, TOKEN } from '../support/pipeline.js';

let p: Pipeline;
const producer = createProducer(kafkaClient());
let serde: AvroSerde;
beforeAll(async () => {
  // Pending bookings confirm after 1 s; the first poll comes at 2 s: a deadline in between makes a
  // late confirmation.
  p = await startPipeline('saga', { mock: { pendingMs: 1000 }, dispatch: { PENDING_POLL_MIN_MS: '2000' } });
  serde = new AvroSerde(createSchemaRegistry(stack().schemaRegistryUrl));
  await producer.connect();
});
afterAll(async () => {
  await producer.disconnect();
  await p?.stop();
});

const cal = (prefix: string) => `${prefix}${randomUUID().slice(0, 8)}`;
const path = (h: { to: string }[]) => h.map((x) => x.to);

/** An appointment the pipeline dead-lettered (REQUESTED -> DEAD_LETTERED + its DLT record), as dispatch would. */
async function deadLettered(appointmentId: string, deadline: number | null, at = Date.now()) {
  const events = [
    lifecycleEvent({
      appointmentId,
      from: null,
      to: 'REQUESTED',
      actor: 'test',
      correlationId: `c-${appointmentId}`,
      at,
    }),
    lifecycleEvent({
      appointmentId,
      from: 'REQUESTED',
      to: 'DEAD_LETTERED',
      actor: 'test',
      correlationId: `c-${appointmentId}`,
      reason: 'RETRIES_EXHAUSTED',
      at,
    }),
  ];
  for (const e of events) {
    await producer.send({
      topic: p.topics.lifecycle,
      messages: [{ key: appointmentId, value: await serde.encode(p.topics.lifecycle, e) }],
    });
  }
  const letter = deadLetterFixture(appointmentId, deadline, p.topics.requested, at);
  await producer.send({
    topic: p.topics.dlt,
    messages: [{ key: appointmentId, value: await serde.encode(p.topics.dlt, letter) }],
  });
}

describe('saga and reconciliation', () => {
  it('always-fail -> DLT -> reconciler -> FAILED, verified against the ledger', async () => {
    const res = await p.submit(requestBody(cal('cal-always-fail-')), `key-${randomUUID()}`);
    const { appointmentId } = (await res.json()) as { appointmentId: string };
    const view = await p.waitForState(appointmentId, 'FAILED');
    expect(path(view.history).slice(-3)).toEqual(['DEAD_LETTERED', 'RECONCILING', 'FAILED']);
    expect(view.history.at(-1)?.reason).toBe('verified: no booking at the provider');
    expect(await p.ledger(appointmentId)).toEqual([]);
    expect(
      p.logs.reconciler.some((l) => l.appointmentId === appointmentId && l.msg === 'reconciled: FAIL'),
    ).toBe(true);
  });

  it('a ghost booking found by the reconciler is confirmed while still wanted', async () => {
    const id = randomUUID();
    const bookingId = await p.bookDirectly(id, cal('cal-immediate-'));
    await deadLettered(id, Date.now() + 3600_000);
    const view = await p.waitForState(id, 'CONFIRMED');
    expect(path(view.history)).toEqual(['REQUESTED', 'DEAD_LETTERED', 'RECONCILING', 'CONFIRMED']);
    expect(view.bookingId).toBe(bookingId);
    expect(await p.ledger(id)).toEqual([expect.objectContaining({ bookingId, status: 'CONFIRMED' })]);
  });

  it('a ghost booking found after its deadline is compensated (cancelled at the provider)', async () => {
    const id = randomUUID();
    const bookingId = await p.bookDirectly(id, cal('cal-immediate-'));
    await deadLettered(id, Date.now() - 1000);
    const view = await p.waitForState(id, 'COMPENSATED');
    expect(path(view.history)).toEqual([
      'REQUESTED',
      'DEAD_LETTERED',
      'RECONCILING',
      'COMPENSATING',
      'COMPENSATED',
    ]);
    expect(await p.ledger(id)).toEqual([expect.objectContaining({ bookingId, status: 'CANCELLED' })]);
  });

  it('a pending booking confirmed after its deadline is compensated (late confirmation)', async () => {
    const res = await p.submit(
      requestBody(cal('cal-pending-'), { deadline: Date.now() + 1500 }),
      `key-${randomUUID()}`,
    );
    expect(res.status).toBe(202);
    const { appointmentId } = (await res.json()) as { appointmentId: string };
    const view = await p.waitForState(appointmentId, 'COMPENSATED');
    expect(path(view.history)).toEqual([
      'REQUESTED',
      'DISPATCHING',
      'PENDING_PROVIDER',
      'CONFIRMED',
      'COMPENSATING',
      'COMPENSATED',
    ]);
    expect(view.history[4]?.reason).toBe('LATE_CONFIRMATION');
    expect(await p.ledger(appointmentId)).toEqual([expect.objectContaining({ status: 'CANCELLED' })]);
  });

  it('a compensation that cannot complete ends in its own dead letter with an alert', async () => {
    const id = randomUUID();
    await p.bookDirectly(id, cal('cal-cancel-fails-'));
    await deadLettered(id, Date.now() - 1000);
    await p.waitForState(id, 'COMPENSATING');
    await waitFor(
      'the compensation alert',
      () =>
        p.logs.compensation.find(
          (l) => l.appointmentId === id && l.alert === true && String(l.msg).includes('needs a person'),
        ),
      20_000,
    );
    expect((await p.view(id))?.state).toBe('COMPENSATING');
    const bookingId = (await p.view(id))!.bookingId!;
    const failedCancels = async () =>
      (await p.calls({ method: 'DELETE' })).filter((c) => c.status === 503 && c.path.includes(bookingId))
        .length;
    const before = await failedCancels();
    expect(before).toBeGreaterThanOrEqual(3);

    // npm run dlt -- --topic compensation redrive: the command goes back through the first
    // compensation retry topic and the compensation service tries the cancel again (issue 14).
    const kafka = kafkaClient();
    const letter = await waitFor('the compensation dead letter', async () =>
      (await readDeadLetters(kafka, serde, p.topics.compensationDlt)).find(
        (e) => e.value.appointmentId === id,
      ),
    );
    const redis = redisClient();
    try {
      const deps = {
        kafka,
        serde,
        redis,
        provider: new ProviderClient({ baseUrl: p.mockUrl, token: TOKEN, timeoutMs: 5000 }),
        topics: p.topics,
        retryDelaysMs: [300, 1200],
        projectionPrefix: p.projectionPrefix,
      };
      const [sent] = await redrive(deps, [letter], { dryRun: false, kind: 'compensation' });
      expect(sent!.decision).toEqual({ redrive: true });
      expect(sent!.sentTo).toBe(`${p.topics.compensation}.retry-300ms`);
      await waitFor(
        'the cancel tried again',
        async () => (await failedCancels()) > before || undefined,
        20_000,
      );
      // A booking's dead letter is not a compensation command: refused, nothing sent.
      const [refused] = await redrive(
        deps,
        [{ ...letter, value: { ...letter.value, originalTopic: p.topics.requested } }],
        {
          dryRun: false,
          kind: 'compensation',
        },
      );
      expect(refused!.decision.redrive).toBe(false);
      expect(refused!.sentTo).toBeUndefined();
    } finally {
      redis.disconnect();
    }
  });

  it('quarantines a dead letter that names no appointment, keeping its reason', async () => {
    await producer.send({
      topic: p.topics.inbound,
      messages: [{ key: 'poison', value: Buffer.from('not avro at all') }],
    });
    const line = await waitFor('the quarantine line', () =>
      p.auditTrail().find((l) => l.kind === 'QUARANTINE'),
    );
    expect(line).toMatchObject({
      alert: true,
      appointmentId: null,
      payload: { source: { topic: p.topics.inbound } },
    });
    expect(String(line.reason)).toMatch(/^DECODE_FAILED: bad magic byte/);
  });

  it('sweeps an appointment stuck past the bound into reconciliation', async () => {
    const id = randomUUID();
    const old = Date.now() - 20 * 60_000;
    const e = lifecycleEvent({
      appointmentId: id,
      from: null,
      to: 'REQUESTED',
      actor: 'test',
      correlationId: 'c-stuck',
      at: old,
    });
    await producer.send({
      topic: p.topics.lifecycle,
      messages: [
        {
          key: id,
          value: await serde.encode(p.topics.lifecycle, e),
          headers: { [HEADERS.correlationId]: 'c-stuck' },
        },
      ],
    });
    await p.waitForState(id, 'REQUESTED');
    const swept = await p.reconciler.sweep();
    expect(swept).toContain(id);
    const view = await p.waitForState(id, 'FAILED');
    expect(path(view.history)).toEqual(['REQUESTED', 'DEAD_LETTERED', 'RECONCILING', 'FAILED']);
    expect(view.history[1]?.reason).toBe('STUCK');
  });

  it('sends the compensation of an appointment left COMPENSATING past the bound again, once', async () => {
    const id = randomUUID();
    const old = Date.now() - 20 * 60_000;
    const moves: [string | null, string][] = [
      [null, 'REQUESTED'],
      ['REQUESTED', 'DISPATCHING'],
      ['DISPATCHING', 'CONFIRMED'],
      ['CONFIRMED', 'COMPENSATING'],
    ];
    // Its command was lost: nothing but the lifecycle says a booking is to be cancelled (one the
    // provider does not know, so the cancel finds nothing left to undo).
    const events = moves.map(([from, to], i) =>
      lifecycleEvent({
        appointmentId: id,
        from: from as never,
        to: to as never,
        actor: 'test',
        correlationId: 'c-compensating',
        at: old + i,
        bookingId: 'bk-lost-command',
        calendarId: 'cal-lost-command',
        ...(to === 'COMPENSATING' ? { reason: 'DEADLINE_PASSED' } : {}),
      }),
    );
    await producer.send({
      topic: p.topics.lifecycle,
      messages: await Promise.all(
        events.map(async (e) => ({
          key: id,
          value: await serde.encode(p.topics.lifecycle, e),
          headers: { [HEADERS.correlationId]: 'c-compensating' },
        })),
      ),
    });
    await p.waitForState(id, 'COMPENSATING');
    expect(await p.reconciler.sweep()).toContain(id);
    // Sent once per bound: a second sweep right after does not send it again.
    expect(await p.reconciler.sweep()).not.toContain(id);
    const view = await p.waitForState(id, 'COMPENSATED');
    expect(path(view.history)).toEqual([
      'REQUESTED',
      'DISPATCHING',
      'CONFIRMED',
      'COMPENSATING',
      'COMPENSATED',
    ]);
  });

  it('leaves the ledger with no slot booked twice', async () => {
    expect(await p.doubleBooked()).toEqual([]);
  });
});
