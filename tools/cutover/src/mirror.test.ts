// The mirror between a stand-in legacy and a stand-in shadow intake (plain HTTP servers of the
// test's own): what the client sees is the legacy's answer, whatever the shadow does.
import { once } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from '@booking/kit';
import { afterEach, describe, expect, it } from 'vitest';
import { journalFile } from './journal.js';
import { COPY_LIMIT_BYTES, type Mirror, startMirror } from './mirror.js';

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;
interface Stub {
  url: string;
  seen: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[];
  server: Server;
}

async function stub(handler: Handler): Promise<Stub> {
  const seen: Stub['seen'] = [];
  const server = createServer(async (req, res) => {
    let body = '';
    for await (const c of req) body += c;
    seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
    handler(req, body, res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

const json = (res: ServerResponse, status: number, body: unknown) =>
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

const booking = JSON.stringify({ calendarId: 'cal-immediate-1', slot: { start: 'x' } });
const headers = {
  'content-type': 'application/json',
  'idempotency-key': 'k-1',
  authorization: 'Basic legacy-secret',
};

const open: { close(): unknown }[] = [];
afterEach(async () => {
  for (const c of open.splice(0)) await c.close();
});

async function setup(legacy: Handler, shadow: Handler, extra: { maxInFlight?: number } = {}) {
  const l = await stub(legacy);
  const s = await stub(shadow);
  const dir = mkdtempSync(join(tmpdir(), 'mirror-'));
  const registry = new Registry();
  const mirror: Mirror = await startMirror({
    legacyUrl: l.url,
    shadowUrl: s.url,
    shadowApiKey: 'shadow-key',
    journalDir: dir,
    retainPairs: true,
    registry,
    ...extra,
  });
  open.push(mirror, { close: () => l.server.closeAllConnections() }, l.server, s.server);
  open.push({ close: () => s.server.closeAllConnections() });
  return { l, s, mirror, registry, journal: journalFile(dir, Date.now()) };
}

describe('mirror', () => {
  it("answers with the legacy's answer and copies the booking to the shadow, journaling both", async () => {
    const { l, s, mirror, journal } = await setup(
      (_req, _b, res) => json(res, 201, { id: 'legacy-1', status: 'CONFIRMED' }),
      (_req, _b, res) => json(res, 202, { appointmentId: 'apt-1' }),
    );
    const res = await fetch(`${mirror.url}/appointments`, {
      method: 'POST',
      headers: { ...headers, 'x-request-id': 'req-1' },
      body: booking,
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ id: 'legacy-1', status: 'CONFIRMED' });
    expect(await mirror.drain(5000)).toBe(true);
    await mirror.close();

    expect(l.seen[0]).toMatchObject({ method: 'POST', url: '/appointments', body: booking });
    expect(l.seen[0]!.headers.authorization).toBe('Basic legacy-secret');
    expect(s.seen[0]).toMatchObject({ method: 'POST', url: '/v1/appointments', body: booking });
    expect(s.seen[0]!.headers).toMatchObject({
      authorization: 'Bearer shadow-key',
      'idempotency-key': 'k-1',
    });
    const pair = mirror.pairs()[0]!;
    // The join key is the mirror's own id, sent to the shadow; the client's is kept beside it.
    expect(s.seen[0]!.headers['x-request-id']).toBe(pair.requestId);
    expect(pair.requestId).not.toBe('req-1');
    expect(pair).toMatchObject({
      clientRequestId: 'req-1',
      legacy: { status: 201, id: 'legacy-1' },
      shadow: { status: 202, id: 'apt-1' },
    });
    expect(
      readFileSync(journal, 'utf8')
        .trim()
        .split('\n')
        .map((x) => JSON.parse(x)),
    ).toEqual([pair]);
  });

  it('drops the client connection when the legacy drops it, and the shadow still gets its copy', async () => {
    const { s, mirror } = await setup(
      (req) => req.socket.destroy(),
      (_req, _b, res) => json(res, 202, { appointmentId: 'apt-2' }),
    );
    const err = await fetch(`${mirror.url}/appointments`, { method: 'POST', headers, body: booking }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err).toBeInstanceOf(TypeError); // fetch failed: a network error, not a 502
    expect(await mirror.drain(5000)).toBe(true);
    expect(s.seen).toHaveLength(1);
    expect(mirror.pairs()[0]).toMatchObject({ legacy: { error: 'ECONNRESET' }, shadow: { status: 202 } });
  });

  it('answers the client before the shadow has answered, and drops copies when saturated', async () => {
    let release: () => void = () => {};
    const held = new Promise<void>((r) => {
      release = r;
    });
    const { s, mirror, registry } = await setup(
      (_req, _b, res) => json(res, 201, { id: 'legacy-3' }),
      (_req, _b, res) => void held.then(() => json(res, 202, { appointmentId: 'apt-3' })),
      { maxInFlight: 1 },
    );
    const send = (id: string) =>
      fetch(`${mirror.url}/appointments`, {
        method: 'POST',
        headers: { ...headers, 'x-request-id': id },
        body: booking,
      });
    expect((await send('first')).status).toBe(201);
    expect((await send('second')).status).toBe(201);
    const [first, second] = mirror.pairs();
    expect(first!.shadow).toBeUndefined(); // the client has its answer; the shadow's copy is still held
    expect(second!.shadow).toMatchObject({ dropped: 'saturated' });
    release();
    expect(await mirror.drain(5000)).toBe(true);
    expect(first!.shadow).toMatchObject({ status: 202, id: 'apt-3' });
    expect(s.seen).toHaveLength(1);
    const metrics = await registry.metrics();
    expect(metrics).toContain('mirror_shadow_copies_total{outcome="dropped",reason="saturated"} 1');
    expect(metrics).toContain('mirror_shadow_copies_total{outcome="answered",reason=""} 1');
  });

  it('passes reads through without mirroring them', async () => {
    const { s, mirror } = await setup(
      (_req, _b, res) => json(res, 200, { id: 'legacy-4', status: 'CONFIRMED' }),
      (_req, _b, res) => json(res, 500, {}),
    );
    const res = await fetch(`${mirror.url}/appointments/legacy-4`);
    expect(await res.json()).toEqual({ id: 'legacy-4', status: 'CONFIRMED' });
    expect(await mirror.drain(1000)).toBe(true);
    expect(s.seen).toHaveLength(0);
    expect(mirror.pairs()).toEqual([]);
  });

  it('counts copies as dropped while the shadow is down, and the legacy answers as before', async () => {
    const { s, mirror, registry } = await setup(
      (_req, _b, res) => json(res, 201, { id: 'legacy-5', status: 'CONFIRMED' }),
      (_req, _b, res) => json(res, 202, { appointmentId: 'apt-5' }),
    );
    s.server.closeAllConnections();
    await new Promise<void>((r) => s.server.close(() => r()));
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${mirror.url}/appointments`, { method: 'POST', headers, body: booking });
      expect(res.status).toBe(201);
      expect(await res.json()).toEqual({ id: 'legacy-5', status: 'CONFIRMED' });
    }
    expect(await mirror.drain(5000)).toBe(true);
    expect(mirror.pairs().map((p) => p.shadow)).toEqual([
      expect.objectContaining({ dropped: 'unreachable' }),
      expect.objectContaining({ dropped: 'unreachable' }),
      expect.objectContaining({ dropped: 'unreachable' }),
    ]);
    expect(await registry.metrics()).toContain(
      'mirror_shadow_copies_total{outcome="dropped",reason="unreachable"} 3',
    );
  });

  it('passes a body over the copy limit to the legacy whole, and drops only its copy', async () => {
    const { l, s, mirror } = await setup(
      (_req, body, res) => json(res, 400, { error: 'MISSING_FIELDS', got: body.length }),
      (_req, _b, res) => json(res, 202, { appointmentId: 'apt-6' }),
    );
    const big = 'x'.repeat(COPY_LIMIT_BYTES + 10);
    const res = await fetch(`${mirror.url}/appointments`, { method: 'POST', headers, body: big });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'MISSING_FIELDS', got: big.length });
    expect(await mirror.drain(5000)).toBe(true);
    expect(l.seen[0]!.body).toHaveLength(big.length);
    expect(s.seen).toHaveLength(0);
    expect(mirror.pairs()[0]).toMatchObject({ legacy: { status: 400 }, shadow: { dropped: 'too-large' } });
  });

  it("keeps the legacy's headers as it wrote them, and ignores a hostile client request id", async () => {
    const { mirror } = await setup(
      (_req, _b, res) =>
        res.writeHead(201, ['X-Legacy-Thing', 'a', 'Set-Cookie', 'x=1', 'Set-Cookie', 'y=2']).end('{}'),
      (_req, _b, res) => json(res, 202, { appointmentId: 'apt-7' }),
    );
    const res = await fetch(`${mirror.url}/appointments`, {
      method: 'POST',
      headers: { ...headers, 'x-request-id': 'bad id; '.repeat(50) },
      body: booking,
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-legacy-thing')).toBe('a');
    expect(res.headers.getSetCookie()).toEqual(['x=1', 'y=2']);
    expect(await mirror.drain(5000)).toBe(true);
    expect(mirror.pairs()[0]!.clientRequestId).toBeUndefined();
  });
});
