// Issue 31: the HTTP door follows the RFCs where it bent them. Each request is written byte for byte
// on a socket (fetch cannot repeat Authorization or Host). Before: a lower-case "bearer" got 401;
// two Authorization fields or two Host fields got 202; Content-Encoding br, deflate or "gzip, gzip"
// on a plain body got 202 (parsed as if the header were absent); a patient name with NUL, ESC and
// CR LF was accepted and sent on to the provider.
import { randomUUID } from 'node:crypto';
import { type RawRequest, rawRequest } from '@booking/fuzz';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, type Pipeline, requestBody, startPipeline } from '../support/pipeline.js';

let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline('http-rules');
});
afterAll(async () => {
  await p?.stop();
});

const book = (
  headers: [string, string][],
  body: unknown = requestBody('cal-immediate-rules'),
): RawRequest => ({
  method: 'POST',
  path: '/v1/appointments',
  headers: [['content-type', 'application/json'], ['idempotency-key', `rules-${randomUUID()}`], ...headers],
  body: JSON.stringify(body),
});
const send = (r: RawRequest) => rawRequest(p.intakeUrl, r);
const json = (body: string) =>
  JSON.parse(body) as { error: string; errors?: { field: string; message: string }[] };

describe('HTTP rules (RFC 9110, RFC 9112)', () => {
  it('the Bearer scheme in any case is the same scheme (RFC 9110 §11.1)', async () => {
    for (const scheme of ['bearer', 'BEARER', 'Bearer']) {
      const a = await send(book([['authorization', `${scheme} ${API_KEY}`]]));
      expect(a.status, scheme).toBe(202);
    }
  });

  it('Authorization given twice is 400, whichever copy is the valid one, and nothing is booked', async () => {
    for (const pair of [
      [`Bearer ${API_KEY}`, 'Bearer wrong-key-000000000'],
      ['Bearer wrong-key-000000000', `Bearer ${API_KEY}`],
      [`Bearer ${API_KEY}`, `Bearer ${API_KEY}`],
    ]) {
      const a = await send(book(pair.map((v) => ['authorization', v] as [string, string])));
      expect(a.status).toBe(400);
      expect(json(a.body)).toMatchObject({ error: 'REPEATED_HEADER', errors: [{ field: 'authorization' }] });
    }
  });

  it('two Host fields are 400 on every route (RFC 9112 §3.2)', async () => {
    const host = new URL(p.intakeUrl).host;
    const twice: [string, string][] = [
      ['host', host],
      ['host', 'evil.example'],
    ];
    expect((await send(book([...twice, ['authorization', `Bearer ${API_KEY}`]]))).status).toBe(400);
    expect((await send({ method: 'GET', path: '/healthz', headers: twice })).status).toBe(400);
  });

  it('an Idempotency-Key or X-Correlation-Id given twice is 400 (node would join them into one key)', async () => {
    const a = await send(
      book([
        ['authorization', `Bearer ${API_KEY}`],
        ['idempotency-key', 'another-key-0001'],
      ]),
    );
    expect(a.status).toBe(400);
    expect(json(a.body).errors?.[0]?.field).toBe('idempotency-key');
    const c = await send(
      book([
        ['authorization', `Bearer ${API_KEY}`],
        ['x-correlation-id', 'one'],
        ['x-correlation-id', 'two'],
      ]),
    );
    expect(c.status).toBe(400);
  });

  it('a content coding the API does not apply is 415 with Accept-Encoding: identity (RFC 9110 §8.4, §15.5.16)', async () => {
    for (const coding of ['br', 'deflate', 'gzip, gzip', 'gzip', 'x-unknown', 'identity, br']) {
      const a = await send(
        book([
          ['authorization', `Bearer ${API_KEY}`],
          ['content-encoding', coding],
        ]),
      );
      expect(a.status, coding).toBe(415);
      expect(a.headers['accept-encoding']).toBe('identity');
      expect(json(a.body).error).toBe('UNSUPPORTED_CONTENT_ENCODING');
    }
    const identity = await send(
      book([
        ['authorization', `Bearer ${API_KEY}`],
        ['content-encoding', 'identity'],
      ]),
    );
    expect(identity.status).toBe(202);
  });

  it('control characters and bidi overrides in any free-text field are 422 naming each field; nothing reaches the provider', async () => {
    const body = requestBody('cal-immediate-rules-ctl');
    const cases: [string, Record<string, unknown>][] = [
      ['patient.name', { ...body, patient: { ...body.patient, name: 'Jo \u0000\u001b[2J\r\nX-Evil: 1' } }],
      ['patient.id', { ...body, patient: { ...body.patient, id: 'p-\u0085' } }],
      ['reason', { ...body, reason: 'check-up \u202egnp.exe' }],
      ['source', { ...body, source: 'clinic\u2066' }],
      ['calendarId', { ...body, calendarId: 'cal-immediate-\u007f' }],
      ['slot.timezone', { ...body, slot: { ...body.slot, timezone: 'Europe/Berlin\t' } }],
    ];
    for (const [field, b] of cases) {
      const a = await send(book([['authorization', `Bearer ${API_KEY}`]], b));
      expect(a.status, field).toBe(422);
      const answer = json(a.body);
      expect(answer.error).toBe('UNSAFE_CHARACTERS');
      expect(answer.errors?.map((e) => e.field)).toContain(field);
    }
    expect(await p.calls({ calendarId: 'cal-immediate-rules-ctl' })).toEqual([]);
  });
});
