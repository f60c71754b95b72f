// The provider client's HTTP: node:http(s) with keep-alive agents and one timer per call bounding
// the whole exchange (headers and body). It replaced fetch, which cost provider-dispatch about a
// sixth of its CPU under load in undici, web streams and abort signals (docs/benchmark.md).
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

export interface TransportResponse {
  status: number;
  header(name: string): string | null;
  /** The body parsed as JSON; {} when it is empty or not JSON. */
  json: Record<string, unknown>;
}

export interface TransportRequest {
  method: 'GET' | 'POST' | 'DELETE';
  url: string;
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
}

export type Transport = (r: TransportRequest) => Promise<TransportResponse>;

/** The error a call fails with when its time runs out (name 'TimeoutError', as fetch's). */
/** Largest provider answer read. */
export const MAX_ANSWER_BYTES = 64 * 1024;

export class TransportTimeout extends Error {
  override readonly name = 'TimeoutError';
}

function parse(text: string): Record<string, unknown> {
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function headerOf(headers: IncomingHttpHeaders, name: string): string | null {
  const v = headers[name.toLowerCase()];
  if (v === undefined) return null;
  return Array.isArray(v) ? v.join(', ') : v;
}

export function createTransport(maxSockets = 64): Transport {
  const http = new HttpAgent({ keepAlive: true, maxSockets });
  const https = new HttpsAgent({ keepAlive: true, maxSockets });
  return (r) =>
    new Promise<TransportResponse>((resolve, reject) => {
      const url = new URL(r.url);
      const secure = url.protocol === 'https:';
      const headers =
        r.body === undefined
          ? r.headers
          : { ...r.headers, 'content-length': String(Buffer.byteLength(r.body)) };
      const req = (secure ? httpsRequest : httpRequest)(
        url,
        { method: r.method, headers, agent: secure ? https : http },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            // A provider's answer is small; a huge or endless one is cut off, not buffered (issue 12).
            if (size > MAX_ANSWER_BYTES) {
              clearTimeout(timer);
              req.destroy(new Error(`provider answer over ${MAX_ANSWER_BYTES} bytes`));
              return;
            }
            chunks.push(c);
          });
          res.on('end', () => {
            clearTimeout(timer);
            const status = res.statusCode ?? 0;
            resolve({
              status,
              header: (name) => headerOf(res.headers, name),
              json: parse(Buffer.concat(chunks).toString('utf8')),
            });
          });
          res.on('error', (err) => {
            clearTimeout(timer);
            reject(err);
          });
        },
      );
      const timer = setTimeout(
        () => req.destroy(new TransportTimeout(`no complete answer within ${r.timeoutMs} ms`)),
        Math.max(1, r.timeoutMs),
      );
      req.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      req.end(r.body);
    });
}
