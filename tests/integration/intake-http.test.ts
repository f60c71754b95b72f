// POST /v1/appointments: every refusal is a clear 4xx with field-level reasons, and loses nothing.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Pipeline, requestBody, startPipeline } from '../support/pipeline.js';

let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline('http', { intake: { BODY_LIMIT_BYTES: '4096' } });
});
afterAll(async () => {
  await p?.stop();
});

const key = () => `key-${randomUUID()}`;
const post = (body: unknown, headers: Record<string, string> = { 'idempotency-key': key() }) =>
  p.api('/v1/appointments', { method: 'POST', body: JSON.stringify(body), headers });
type Problem = { error: string; errors?: { field: string; message: string }[] };
const fieldsOf = async (res: Response) => ((await res.json()) as Problem).errors?.map((e) => e.field) ?? [];

describe('intake HTTP', () => {
  it('refuses a missing or wrong API key with 401', async () => {
    const body = JSON.stringify(requestBody('cal-immediate-a'));
    const none = await fetch(`${p.intakeUrl}/v1/appointments`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'idempotency-key': key() },
    });
    expect(none.status).toBe(401);
    const wrong = await fetch(`${p.intakeUrl}/v1/appointments`, {
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/json',
        'idempotency-key': key(),
        authorization: 'Bearer not-the-key-at-all-0000',
      },
    });
    expect(wrong.status).toBe(401);
  });

  it('requires an Idempotency-Key of 8-255 printable characters', async () => {
    const variants: Record<string, string>[] = [
      {},
      { 'idempotency-key': 'short' },
      { 'idempotency-key': 'x'.repeat(256) },
    ];
    for (const headers of variants) {
      const res = await post(requestBody('cal-immediate-a'), headers);
      expect(res.status).toBe(400);
      expect(await fieldsOf(res)).toEqual(['Idempotency-Key']);
    }
  });

  it('lists every invalid field with its reason', async () => {
    const past = new Date(Date.now() - 3600_000).toISOString();
    const res = await post({
      patient: { id: 'p-1', name: '', phone: '07700 900123', email: 'nope' },
      calendarId: 'has spaces!',
      slot: { start: '2031-01-01 09:00', end: past, timezone: 'Mars/Olympus' },
      reason: 'x'.repeat(501),
      deadline: Date.now() - 1000,
      extra: true,
    });
    expect(res.status).toBe(400);
    const fields = await fieldsOf(res);
    expect(fields).toEqual(
      expect.arrayContaining([
        'patient.name',
        'patient.phone',
        'patient.email',
        'calendarId',
        'slot.start',
        'slot.timezone',
        'reason',
        'extra',
      ]),
    );
  });

  it('checks the slot: end after start, 5 min to 8 h, not in the past; the deadline in the future', async () => {
    const base = requestBody('cal-immediate-a');
    const start = Date.parse(base.slot.start);
    const iso = (ms: number) => new Date(ms).toISOString();
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ slot: { ...base.slot, end: iso(start - 60_000) } }, 'slot.end', /after slot.start/],
      [{ slot: { ...base.slot, end: iso(start + 4 * 60_000) } }, 'slot.end', /5 minutes to 8 hours/],
      [{ slot: { ...base.slot, end: iso(start + 9 * 3600_000) } }, 'slot.end', /5 minutes to 8 hours/],
      [
        { slot: { ...base.slot, start: iso(Date.now() - 3600_000), end: iso(Date.now() - 1800_000) } },
        'slot.start',
        /past/,
      ],
      [{ deadline: Date.now() - 1 }, 'deadline', /future/],
    ];
    for (const [override, field, message] of cases) {
      const res = await post({ ...base, ...override });
      expect(res.status, field).toBe(400);
      const { errors } = (await res.json()) as Problem;
      expect(errors?.find((e) => e.field === field)?.message, field).toMatch(message);
    }
  });

  it('answers 413 for a body over the limit', async () => {
    const res = await post({ ...requestBody('cal-immediate-a'), padding: 'x'.repeat(8000) });
    expect(res.status).toBe(413);
    expect(((await res.json()) as Problem).error).toBe('PAYLOAD_TOO_LARGE');
  });

  it('answers 422 when a key is reused with another body, and replays the same body', async () => {
    const k = key();
    const body = requestBody(`cal-immediate-${randomUUID().slice(0, 8)}`);
    const first = await post(body, { 'idempotency-key': k });
    expect(first.status).toBe(202);
    const other = await post({ ...body, reason: 'something else' }, { 'idempotency-key': k });
    expect(other.status).toBe(422);
    const again = await post(body, { 'idempotency-key': k });
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
  });

  it('finds an appointment by id and by idempotency key; 404 when unknown', async () => {
    const k = key();
    const res = await post(requestBody(`cal-immediate-${randomUUID().slice(0, 8)}`), {
      'idempotency-key': k,
    });
    const { appointmentId } = (await res.json()) as { appointmentId: string };
    const view = await p.waitForState(appointmentId, 'CONFIRMED');
    expect(view).toMatchObject({ appointmentId, attempts: 1 });
    expect(view.history[0]).toMatchObject({ from: null, to: 'REQUESTED' });
    const byKey = await p.api(`/v1/appointments?idempotencyKey=${encodeURIComponent(k)}`);
    expect(((await byKey.json()) as { appointmentId: string }).appointmentId).toBe(appointmentId);
    expect((await p.api(`/v1/appointments/${randomUUID()}`)).status).toBe(404);
    expect((await p.api(`/v1/appointments?idempotencyKey=${key()}`)).status).toBe(404);
  });

  it('serves /healthz with each dependency and /metrics', async () => {
    const health = await fetch(`${p.intakeUrl}/healthz`);
    expect(health.status).toBe(200);
    // Each consumer reports whether it is running and making progress (issue 20), not only "joined once".
    expect(((await health.json()) as { checks: Record<string, unknown> }).checks).toEqual({
      kafkaWrites: true,
      schemaRegistry: true,
      redis: true,
      inboundConsumer: expect.objectContaining({ running: true, stuck: false }),
    });
    const metrics = await (await fetch(`${p.intakeUrl}/metrics`)).text();
    expect(metrics).toMatch(/intake_http_requests_total\{[^}]*status="400"/);
    for (const url of [p.dispatchUrl, p.auditUrl]) expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });

  it('never logs the patient data it was sent', () => {
    const all = JSON.stringify([...p.logs.intake, ...p.logs.dispatch]);
    for (const pii of ['Ada Lovelace', '+447700900123', 'ada@example.org']) expect(all).not.toContain(pii);
  });

  it('leaves the ledger with no slot booked twice', async () => {
    expect(await p.ledger()).not.toEqual([]);
    expect(await p.doubleBooked()).toEqual([]);
  });
});
