// An HTTP/1.1 request written byte for byte on a socket: what fetch and node's client will not send
// (a header given twice, two Host fields, a scheme in lower case next to a second copy). Answers the
// status line's code, or 'closed' when the server closed without one. Bounded in time and size.
import { connect } from 'node:net';

export interface RawRequest {
  method: string;
  path: string;
  /** In order, repeats allowed; a Host is added first unless one is given. */
  headers: [string, string][];
  body?: string | Buffer;
}

export interface RawAnswer {
  status: number | 'closed';
  headers: Record<string, string>;
  body: string;
}

const MAX_ANSWER_BYTES = 256 * 1024;

export function rawRequest(baseUrl: string, r: RawRequest, timeoutMs = 10_000): Promise<RawAnswer> {
  const url = new URL(baseUrl);
  const body = r.body === undefined ? undefined : Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body);
  const headers = r.headers.some(([n]) => n.toLowerCase() === 'host')
    ? [...r.headers]
    : ([['host', url.host], ...r.headers] as [string, string][]);
  if (body && !headers.some(([n]) => n.toLowerCase() === 'content-length'))
    headers.push(['content-length', String(body.length)]);
  headers.push(['connection', 'close']);
  const head = `${r.method} ${r.path} HTTP/1.1\r\n${headers.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`;
  return new Promise((resolve, reject) => {
    const socket = connect({ host: url.hostname, port: Number(url.port) });
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('connect', () => {
      socket.write(head);
      if (body) socket.write(body);
    });
    socket.on('data', (d: Buffer) => {
      size += d.length;
      if (size <= MAX_ANSWER_BYTES) chunks.push(d);
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(parseAnswer(Buffer.concat(chunks).toString('latin1')));
    });
  });
}

function parseAnswer(text: string): RawAnswer {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
  if (!m) return { status: 'closed', headers: {}, body: '' };
  const end = text.indexOf('\r\n\r\n');
  const headers: Record<string, string> = {};
  for (const line of text.slice(0, end).split('\r\n').slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return { status: Number(m[1]), headers, body: end >= 0 ? text.slice(end + 4) : '' };
}
