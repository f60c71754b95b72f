// The cutover's traffic mirror (issue 6): a reverse proxy in front of the legacy. Every client gets
// exactly what the legacy answered, and when the legacy drops the connection (it crashes) the
// client's connection is dropped too, so the legacy keeps serving as if the mirror were not there.
// Each booking request is also copied to the shadow pipeline's intake, concurrently and never
// waited for; the legacy's answer and the shadow's are journaled together by request id.
//
// Hand-written on node:http rather than a generic proxy library: those answer 502 when the
// upstream drops a connection, which would change what the legacy's clients see and retry.
import { randomUUID } from 'node:crypto';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { createServer, type IncomingHttpHeaders, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { Counter, Gauge, type Logger, type Registry } from '@booking/kit';

/** The legacy's booking endpoint; only these requests are mirrored (reads are not). */
export const MIRRORED = { method: 'POST', path: '/appointments' } as const;
/** The request headers the shadow gets; the legacy's own credentials never leave the mirror. */
export const FORWARDED_TO_SHADOW = [
  'idempotency-key',
  'content-type',
  'x-request-id',
  'x-correlation-id',
  'traceparent',
  'tracestate',
] as const;
const BODY_LIMIT_BYTES = 1_048_576;

export interface MirrorOptions {
  /** Base URL of the legacy, e.g. http://127.0.0.1:3200. */
  legacyUrl: string;
  /** Base URL of the shadow pipeline's intake, e.g. http://127.0.0.1:3010. */
  shadowUrl: string;
  shadowApiKey: string;
  /** Shadow copies in flight at most; beyond that a copy is dropped (and counted), never queued. */
  maxInFlight?: number;
  shadowTimeoutMs?: number;
  /** JSON lines, one per mirrored request, written when the shadow's answer is in. */
  journalPath?: string;
  registry?: Registry;
  logger?: Logger;
}

export interface Answer {
  at: number;
  status?: number;
  /** Network failure (the legacy dropped the connection, a timeout, …). */
  error?: string;
  /** The id in a successful answer: the legacy's booking id, the shadow's appointment id. */
  id?: string;
  /** The error code in a 4xx answer's body. */
  errorCode?: string;
}

export interface MirroredPair {
  requestId: string;
  receivedAt: number;
  legacy?: Answer;
  /** Absent while the copy is in flight; `dropped` when the mirror was saturated. */
  shadow?: Answer | { at: number; dropped: true };
}

export interface Mirror {
  url: string;
  pairs(): MirroredPair[];
  /** Resolves true once no shadow copy and no legacy answer is outstanding (false at the bound). */
  drain(boundMs: number): Promise<boolean>;
  close(): Promise<void>;
}

function summarize(status: number, text: string, idField: string): Omit<Answer, 'at'> {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const o = body && typeof body === 'object' ? (body as Record<string, unknown>) : {};
  const id = status < 300 && typeof o[idField] === 'string' ? (o[idField] as string) : undefined;
  const errorCode = status >= 400 && typeof o.error === 'string' ? o.error : undefined;
  return { status, ...(id ? { id } : {}), ...(errorCode ? { errorCode } : {}) };
}

function pick(headers: IncomingHttpHeaders, names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of names) {
    const v = headers[n];
    if (typeof v === 'string') out[n] = v;
  }
  return out;
}

export async function startMirror(o: MirrorOptions, port = 0, host = '127.0.0.1'): Promise<Mirror> {
  const legacy = new URL(o.legacyUrl);
  const maxInFlight = o.maxInFlight ?? 256;
  const shadowTimeoutMs = o.shadowTimeoutMs ?? 10_000;
  const pairs = new Map<string, MirroredPair>();
  let outstanding = 0;
  let shadowInFlight = 0;
  let journal: WriteStream | undefined;
  if (o.journalPath) {
    mkdirSync(dirname(o.journalPath), { recursive: true });
    journal = createWriteStream(o.journalPath, { flags: 'a' });
  }
  const registers = o.registry ? [o.registry] : [];
  const requests = new Counter({
    name: 'mirror_requests_total',
    help: 'Requests proxied to the legacy, by whether they were mirrored',
    labelNames: ['mirrored'],
    registers,
  });
  const copies = new Counter({
    name: 'mirror_shadow_copies_total',
    help: 'Copies sent to the shadow, by outcome (answered, failed, dropped)',
    labelNames: ['outcome'],
    registers,
  });
  new Gauge({
    name: 'mirror_shadow_in_flight',
    help: 'Shadow copies awaiting an answer',
    registers,
    collect() {
      this.set(shadowInFlight);
    },
  });

  const settled = (pair: MirroredPair) => {
    if (pair.legacy && pair.shadow && journal) journal.write(`${JSON.stringify(pair)}\n`);
  };

  async function copyToShadow(pair: MirroredPair, headers: IncomingHttpHeaders, body: Buffer) {
    if (shadowInFlight >= maxInFlight) {
      copies.inc({ outcome: 'dropped' });
      pair.shadow = { at: Date.now(), dropped: true };
      o.logger?.warn({ requestId: pair.requestId }, 'mirror saturated: shadow copy dropped');
      return;
    }
    shadowInFlight++;
    try {
      const res = await fetch(`${o.shadowUrl}/v1/appointments`, {
        method: 'POST',
        headers: {
          ...pick(headers, FORWARDED_TO_SHADOW),
          'x-request-id': pair.requestId,
          authorization: `Bearer ${o.shadowApiKey}`,
        },
        body: new Uint8Array(body),
        signal: AbortSignal.timeout(shadowTimeoutMs),
      });
      pair.shadow = { at: Date.now(), ...summarize(res.status, await res.text(), 'appointmentId') };
      copies.inc({ outcome: 'answered' });
    } catch (err) {
      pair.shadow = { at: Date.now(), error: (err as Error).name === 'TimeoutError' ? 'timeout' : 'network' };
      copies.inc({ outcome: 'failed' });
      o.logger?.warn({ requestId: pair.requestId, err }, 'shadow copy failed');
    } finally {
      shadowInFlight--;
    }
  }

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > BODY_LIMIT_BYTES) {
        res.writeHead(413).end();
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const requestId = (req.headers['x-request-id'] as string | undefined) ?? randomUUID();
      const headers = { ...req.headers, 'x-request-id': requestId, host: legacy.host };
      const mirrored = req.method === MIRRORED.method && req.url === MIRRORED.path;
      requests.inc({ mirrored: String(mirrored) });
      const pair: MirroredPair | undefined = mirrored ? { requestId, receivedAt: Date.now() } : undefined;
      if (pair) {
        pairs.set(requestId, pair);
        outstanding += 2;
        void copyToShadow(pair, req.headers, body).finally(() => {
          outstanding--;
          settled(pair);
        });
      }
      let recorded = false;
      const record = (a: Omit<Answer, 'at'>) => {
        if (!pair || recorded) return;
        recorded = true;
        pair.legacy = { at: Date.now(), ...a };
        outstanding--;
        settled(pair);
      };
      const up = request(
        { host: legacy.hostname, port: legacy.port, method: req.method, path: req.url, headers },
        (upRes) => {
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          const answer: Buffer[] = [];
          upRes.on('data', (c: Buffer) => {
            if (pair) answer.push(c);
            res.write(c);
          });
          upRes.on('end', () => {
            res.end();
            record(summarize(upRes.statusCode ?? 0, Buffer.concat(answer).toString('utf8'), 'id'));
          });
          upRes.on('error', () => {
            record({ error: 'network' });
            res.destroy();
          });
        },
      );
      up.on('error', (err: NodeJS.ErrnoException) => {
        // The legacy dropped the connection: so does the mirror, as the legacy would have.
        record({ error: err.code ?? 'network' });
        res.destroy();
      });
      // The client gave up (its timeout): the legacy's connection goes too, as it would have.
      res.on('close', () => {
        if (!res.writableFinished) {
          up.destroy();
          record({ error: 'client-aborted' });
        }
      });
      up.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  const { port: bound } = server.address() as AddressInfo;

  return {
    url: `http://${host}:${bound}`,
    pairs: () => [...pairs.values()],
    async drain(boundMs) {
      const until = Date.now() + boundMs;
      while (outstanding > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      return outstanding === 0;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (journal) await new Promise<void>((resolve) => journal.end(resolve));
    },
  };
}
