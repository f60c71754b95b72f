// Audit: every transition is in the trail (masked), the projection follows the state machine, and an
// illegal transition is recorded and alerted, never applied.
import { randomUUID } from 'node:crypto';
import {
  AvroSerde,
  createProducer,
  createSchemaRegistry,
  lifecycleEvent,
  transitionEventId,
} from '@booking/kit';
import type { LifecycleTransition } from '@booking/schemas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kafkaClient, stack, waitFor } from '../support/helpers.js';
import { type Pipeline, requestBody, startPipeline } from '../support/pipeline.js';

let p: Pipeline;
const producer = createProducer(kafkaClient());
let serde: AvroSerde;
beforeAll(async () => {
  p = await startPipeline('audit');
  serde = new AvroSerde(createSchemaRegistry(stack().schemaRegistryUrl));
  await producer.connect();
});
afterAll(async () => {
  await producer.disconnect();
  await p?.stop();
});

async function confirmed() {
  const res = await p.submit(requestBody(`cal-immediate-${randomUUID().slice(0, 8)}`), `key-${randomUUID()}`);
  const { appointmentId } = (await res.json()) as { appointmentId: string };
  await p.waitForState(appointmentId, 'CONFIRMED');
  return appointmentId;
}

describe('audit', () => {
  it('writes every transition of an appointment to the trail, in order, without PII', async () => {
    const id = await confirmed();
    const lines = await waitFor('three transition lines', () => {
      const mine = p.auditTrail().filter((l) => l.appointmentId === id && l.kind === 'TRANSITION');
      return mine.length >= 3 ? mine : null;
    });
    expect(lines.map((l) => l.to)).toEqual(['REQUESTED', 'DISPATCHING', 'CONFIRMED']);
    for (const l of lines) {
      expect(l).toMatchObject({ appointmentId: id, topic: p.topics.lifecycle });
      expect(typeof l.correlationId).toBe('string');
      expect(typeof l.offset).toBe('string');
    }
    const text = JSON.stringify(p.auditTrail());
    for (const pii of ['Ada Lovelace', '+447700900123', 'ada@example.org']) expect(text).not.toContain(pii);
  });

  it('records an illegal transition as an alert and does not apply it', async () => {
    const id = await confirmed();
    const illegal: LifecycleTransition = {
      ...lifecycleEvent({
        appointmentId: id,
        from: 'CONFIRMED',
        to: 'COMPENSATING',
        actor: 'test',
        correlationId: 'c',
      }),
      from: 'REJECTED',
      to: 'CONFIRMED',
      eventId: transitionEventId(id, 'REJECTED', 'CONFIRMED', 0),
    };
    await producer.send({
      topic: p.topics.lifecycle,
      messages: [{ key: id, value: await serde.encode(p.topics.lifecycle, illegal) }],
    });
    const line = await waitFor('the illegal transition line', () =>
      p.auditTrail().find((l) => l.appointmentId === id && l.kind === 'ILLEGAL_TRANSITION'),
    );
    expect(line).toMatchObject({ alert: true, from: 'REJECTED', to: 'CONFIRMED' });
    expect(String(line.reason)).toMatch(/while the appointment is CONFIRMED; not applied/);
    const view = await p.view(id);
    expect(view?.state).toBe('CONFIRMED');
    expect(view?.history).toHaveLength(3);
    const metrics = await (await fetch(`${p.auditUrl}/metrics`)).text();
    expect(metrics).toMatch(/booking_alerts_total\{[^}]*kind="illegal_transition"[^}]*\} [1-9]/);
    expect(p.logs.audit.some((l) => l.appointmentId === id && l.alert === true)).toBe(true);
  });

  it('counts appointments by state on /metrics', async () => {
    await confirmed();
    const metrics = await (await fetch(`${p.auditUrl}/metrics`)).text();
    expect(
      Number(/booking_appointments_by_state\{[^}]*state="CONFIRMED"[^}]*\} (\d+)/.exec(metrics)?.[1]),
    ).toBeGreaterThanOrEqual(2);
    expect(metrics).toMatch(/booking_appointments_by_state\{[^}]*state="REQUESTED"[^}]*\} 0/);
  });

  it('writes the invariant report on demand: counts per terminal state and mismatches', async () => {
    const res = await fetch(`${p.auditUrl}/invariants`, { method: 'POST' });
    expect(res.status).toBe(200);
    const report = (await res.json()) as {
      terminal: Record<string, number>;
      mismatches: Record<string, string[]>;
      passed: boolean;
    };
    expect(report.terminal.CONFIRMED).toBeGreaterThanOrEqual(3);
    expect(report.mismatches).toEqual({
      confirmedWithoutBooking: [],
      bookingWithoutConfirmed: [],
      multipleBookings: [],
    });
  });

  it('leaves the ledger with no slot booked twice', async () => {
    expect(await p.ledger()).not.toEqual([]);
    expect(await p.doubleBooked()).toEqual([]);
  });
});
