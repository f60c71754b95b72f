// The cutover's traffic mirror: a reverse proxy in front of the legacy, for production use
// (`npm run mirror`, docs/cutover.md). Every client gets exactly what the legacy answered, and when
// the legacy drops the connection (it crashes) the client's connection is dropped too, so the
// legacy keeps serving as if the mirror were not there. Each booking request is also copied to the
// shadow deployment's intake, after the legacy has the request and never waited for: a copy the
// shadow cannot take (too many in flight, refused, timed out, too large) is dropped and counted.
// The legacy's answer and the shadow's are journaled together under the mirror's request id.
//
// Hand-written on node:http rather than a generic proxy library: those answer 502 when the
// upstream drops a connection, which would change what the legacy's clients see and retry.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, type Logger, type Registry } from '@booking/kit';
import { type Journal, openJournal } from './journal.js';

/** The legacy's booking endpoint; only these requests are mirrored (reads are not). */
export const MIRRORED = { method: 'POST', path: '/appointments' } as const;
/** The request headers the shadow gets; the legacy's own credentials never leave the mirror. */
export const FORWARDED_TO_SHADOW = [
  'idempotency-key',
  'content-type',
  'x-correlation-id',
  'traceparent',
  'tracestate',
] as const;
/** A body larger than this still reaches the legacy, untouched; only its copy is dropped. */
export const COPY_LIMIT_BYTES = 1_048_576;
/** A client's x-request-id is kept (as clientRequestId) only when it looks like one. */
const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export type DropReason = 'saturated' | 'unreachable' | 'timeout' | 'too-large';

export interface MirrorOptions {
  /** Base URL of the legacy, e.g. http://127.0.0.1:3200. */
  legacyUrl: string;
  /** Base URL of the shadow deployment's intake, e.g. http://127.0.0.1:3010. */
  shadowUrl: string;
  shadowApiKey: string;
  /** The legacy's booking path, when it is not /appointments. */
  mirroredPath?: string;
  /** Shadow copies in flight at most; beyond that a copy is dropped (and counted), never queued. */
  maxInFlight?: number;
  shadowTimeoutMs?: number;
  /** Directory of the journal: one JSON line per mirrored request, a file per UTC day. */
  journalDir?: string;
  /** Names this mirror's journal files, so several mirrors can share a directory. */
  instance?: string;
  /** Keep every pair in memory for pairs() (the A/B harness); off in production, where memory is bounded. */
  retainPairs?: boolean;
  registry?: Registry;
  logger?: Logger;
}

export interface Answer {
  at: number;
  status?: number;
  /** Network failure on the legacy's side (it dropped the connection, the client gave up, …). */
  error?: string;
  /** The id in a successful answer: the legacy's booking id, the shadow's appointment id. */
  id?: string;
  /** The error code in a 4xx answer's body. */
  errorCode?: string;
}

export interface Dropped {
  at: number;
  dropped: DropReason;
}

export interface MirroredPair {
  /** The mirror's own id for the request: the join key (the shadow gets it as x-request-id). */
  requestId: string;
  /** The client's x-request-id, when it sent a well-formed one. */
  clientRequestId?: string;
  receivedAt: number;
  legacy?: Answer;
  /** Absent while the copy is in flight. */
  shadow?: Answer | Dropped;
}

export interface MirrorState {
  shadowInFlight: number;
  outstanding: number;
  /** The journal's last write error, if it failed (the mirror keeps serving; /healthz says so). */
  journalError?: string;
  lastLegacyError?: { at: number; error: string };
}

export interface Mirror {
  url: string;
  /** Every pair so far (only with retainPairs). */
  pairs(): MirroredPair[];
  state(): MirrorState;
  /** Resolves true once no shadow copy and no legacy answer is outstanding (false at the bound). */
  drain(boundMs: number): Promise<boolean>;
  close(): Promise<void>;
}

export const isDropped = (a: Answer | Dropped | undefined): a is Dropped => !!a && 'dropped' in a;

function summarize(status: number, text: string, idField: string): Omit<Answer, 'at'> {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const o = body && typeof body === 'object' ? (body as Record<string, unknown>) : {};
  const id =
    status < 300 && typeof o[idField] === 'string' ? (o[idField] as string).slice(0, 200) : undefined;
  const errorCode =
    status >= 400 && typeof o.error === 'string' ? (o.error as string).slice(0, 100) : undefined;
  return { status, ...(id ? { id } : {}), ...(errorCode ? { errorCode } : {}) };
}

function pick(headers: IncomingHttpHeaders, names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of names) {
    const v = headers[n];
    if (typeof v === 'string' && v.length <= 1024) out[n] = v;
  }
  return out;
}

function pathOf(url: string | undefined): string | undefined {
  try {
    return new URL(url ?? '', 'http://mirror.invalid').pathname;
  } catch {
    return undefined;
  }
}

export async function startMirror(o: MirrorOptions, port = 0, host = '127.0.0.1'): Promise<Mirror> {
  const legacy = new URL(o.legacyUrl);
  const mirroredPath = o.mirroredPath ?? MIRRORED.path;
  const maxInFlight = o.maxInFlight ?? 256;
  const shadowTimeoutMs = o.shadowTimeoutMs ?? 10_000;
  const retained: MirroredPair[] = [];
  let outstanding = 0;
  let shadowInFlight = 0;
  let lastLegacyError: MirrorState['lastLegacyError'];
  const journal: Journal | undefined = o.journalDir
    ? openJournal(o.journalDir, o.instance, o.logger)
    : undefined;
  const registers = o.registry ? [o.registry] : [];
  const requests = new Counter({
    name: 'mirror_requests_total',
    help: 'Requests proxied to the legacy, by whether they were mirrored',
    labelNames: ['mirrored'],
    registers,
  });
  const legacyAnswers = new Counter({
    name: 'mirror_legacy_answers_total',
    help: "The legacy's answers to mirrored requests, by status class (or the network error)",
    labelNames: ['status'],
    registers,
  });
  const copies = new Counter({
    name: 'mirror_shadow_copies_total',
    help: 'Copies for the shadow, by outcome (answered, dropped) and, for a dropped one, why',
    labelNames: ['outcome', 'reason'],
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
    if (pair.legacy && pair.shadow) journal?.write(pair);
  };
  const drop = (pair: MirroredPair, reason: DropReason) => {
    copies.inc({ outcome: 'dropped', reason });
    pair.shadow = { at: Date.now(), dropped: reason };
  };

  async function copyToShadow(pair: MirroredPair, headers: IncomingHttpHeaders, body: Buffer | undefined) {
    if (!body) return drop(pair, 'too-large');
    if (shadowInFlight >= maxInFlight) {
      drop(pair, 'saturated');
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
      const text = await res.text();
      pair.shadow = { at: Date.now(), ...summarize(res.status, text.slice(0, 65_536), 'appointmentId') };
      copies.inc({ outcome: 'answered', reason: '' });
    } catch (err) {
      const reason = (err as Error).name === 'TimeoutError' ? 'timeout' : 'unreachable';
      drop(pair, reason);
      o.logger?.warn({ requestId: pair.requestId, reason }, 'shadow copy dropped');
    } finally {
      shadowInFlight--;
    }
  }

  const server: Server = createServer((req, res) => {
    const mirrored = req.method === MIRRORED.method && pathOf(req.url) === mirroredPath;
    requests.inc({ mirrored: String(mirrored) });
    const clientId = req.headers['x-request-id'];
    const pair: MirroredPair | undefined = mirrored
      ? {
          requestId: randomUUID(),
          ...(typeof clientId === 'string' && CLIENT_REQUEST_ID.test(clientId)
            ? { clientRequestId: clientId }
            : {}),
          receivedAt: Date.now(),
        }
      : undefined;
    if (pair) {
      outstanding += 2;
      if (o.retainPairs) retained.push(pair);
    }
    let recorded = false;
    const record = (a: Omit<Answer, 'at'>) => {
      if (!pair || recorded) return;
      recorded = true;
      pair.legacy = { at: Date.now(), ...a };
      legacyAnswers.inc({ status: a.status ? `${Math.floor(a.status / 100)}xx` : (a.error ?? 'network') });
      if (a.error) lastLegacyError = { at: Date.now(), error: a.error };
      outstanding--;
      settled(pair);
    };
    // The request goes to the legacy as it arrives; the copy is the same bytes, kept up to a bound.
    const up = request(
      {
        host: legacy.hostname,
        port: legacy.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: legacy.host },
      },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.rawHeaders);
        const answer: Buffer[] = [];
        let kept = 0;
        upRes.on('data', (c: Buffer) => {
          if (pair && kept < 65_536) {
            answer.push(c);
            kept += c.length;
          }
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
    const chunks: Buffer[] | undefined = pair ? [] : undefined;
    let size = 0;
    req.on('data', (c: Buffer) => {
      up.write(c);
      if (!chunks) return;
      size += c.length;
      if (size <= COPY_LIMIT_BYTES) chunks.push(c);
    });
    req.on('end', () => {
      up.end();
      if (!pair || !chunks) return;
      void copyToShadow(
        pair,
        req.headers,
        size <= COPY_LIMIT_BYTES ? Buffer.concat(chunks) : undefined,
      ).finally(() => {
        outstanding--;
        settled(pair);
      });
    });
    req.on('error', () => up.destroy());
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  const { port: bound } = server.address() as AddressInfo;

  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    pairs: () => [...retained],
    state: () => ({
      shadowInFlight,
      outstanding,
      ...(journal?.error() ? { journalError: journal.error() } : {}),
      ...(lastLegacyError ? { lastLegacyError } : {}),
    }),
    async drain(boundMs) {
      const until = Date.now() + boundMs;
      while (outstanding > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      return outstanding === 0;
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await journal?.close();
    },
  };
}
