// What the fuzzer sends, as fast-check arbitraries: HTTP requests of every hostile shape, and Kafka
// record values of every bad kind. Personal data in them is made of MARKERS, so a log that leaks it
// is found by a plain text search afterwards.
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type { RawRequest } from './raw-http.js';

/** Fake personal data: if any of these is found in a log, something logged what it must not. */
export const MARKERS = {
  name: 'Fuzzina Markerperson',
  phone: '+447700900999',
  email: 'fuzzina.marker@example.org',
} as const;

export interface HttpCase {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
  /** What the case is, for the results (no personal data). */
  kind: string;
}

const validBody = (i: number) => {
  const start = Math.floor((Date.now() + (2 + (i % 300)) * 86_400_000) / 3_600_000) * 3_600_000;
  return {
    patient: { id: `fz-${i}`, name: MARKERS.name, phone: MARKERS.phone, email: MARKERS.email },
    calendarId: `cal-immediate-fz-${i}`,
    slot: {
      start: new Date(start).toISOString().replace('.000Z', 'Z'),
      end: new Date(start + 1_800_000).toISOString().replace('.000Z', 'Z'),
      timezone: 'Europe/Berlin',
    },
    reason: null,
  };
};

const PATHS = [
  '/v1/appointments',
  '/%761/appointments',
  '/v%31/appointments',
  '/V1/APPOINTMENTS',
  '/v1/appointments/',
  '/v1//appointments',
  '/v1/appointments/counts',
  '/v1/appointments/00000000-0000-8000-8000-000000000000',
  '/v1/appointments/..%2f..%2fetc%2fpasswd',
  '/v1/appointments?idempotencyKey=',
  '/v1/appointments?idempotencyKey=abc&idempotencyKey=def',
  '/v1/appointments?source=%00',
  '/healthz',
  '/metrics',
  '/%2e%2e/%2e%2e/',
  '/',
];

/** Characters a header may carry (fetch refuses control characters before sending). */
const printable = fc.string({
  maxLength: 300,
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
});

/** A body: a valid one mutated, random JSON, deep nesting, bytes, or over the limit. */
const body = (i: number) =>
  fc.oneof(
    fc
      .record({
        field: fc.constantFrom('patient', 'calendarId', 'slot', 'reason', 'deadline', 'source', 'extra'),
        value: fc.jsonValue({ maxDepth: 3 }),
      })
      .map(({ field, value }) => ({
        kind: `mutated ${field}`,
        text: JSON.stringify({ ...validBody(i), [field]: value }),
      })),
    fc
      .record({
        start: fc.constantFrom(
          '2031-13-01T09:00:00+01:00',
          '2031-02-30T09:00:00+01:00',
          '2031-06-01T25:00:00+02:00',
          '2031-06-01T09:00:60+02:00',
          '2031-06-01T09:00:00+99:99',
          '2031-06-01T09:00:00+05:00',
          '1999-01-01T09:00:00Z',
          '2100-01-01T09:00:00Z',
          'not a date',
        ),
        deadline: fc.oneof(
          fc.constant(1),
          fc.constant(-5),
          fc.constant(1e300),
          fc.constant(null),
          fc.double(),
        ),
      })
      .map(({ start, deadline }) => ({
        kind: 'bad time',
        text: JSON.stringify({ ...validBody(i), slot: { ...validBody(i).slot, start }, deadline }),
      })),
    fc.jsonValue({ maxDepth: 4 }).map((v) => ({ kind: 'random json', text: JSON.stringify(v) ?? 'null' })),
    fc.nat({ max: 3000 }).map((d) => ({ kind: 'deep nesting', text: `${'['.repeat(d)}${']'.repeat(d)}` })),
    fc
      .uint8Array({ maxLength: 512 })
      .map((b) => ({ kind: 'bytes', text: Buffer.from(b) as Buffer | string })),
    fc.constant({
      kind: 'over the limit',
      text: JSON.stringify({ ...validBody(i), reason: 'x'.repeat(40_000) }),
    }),
    fc.constant({ kind: 'valid', text: JSON.stringify(validBody(i)) }),
  );

/** One HTTP request; `apiKey` is the intake key, used on some requests only. */
export function httpCase(apiKey: string, i: number): fc.Arbitrary<HttpCase> {
  return fc
    .record({
      method: fc.oneof(
        { weight: 7, arbitrary: fc.constant('POST') },
        { weight: 3, arbitrary: fc.constantFrom('GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD') },
      ),
      path: fc.oneof(
        { weight: 6, arbitrary: fc.constant('/v1/appointments') },
        { weight: 3, arbitrary: fc.constantFrom(...PATHS) },
        { weight: 1, arbitrary: fc.webPath().map((p) => (p.startsWith('/') ? p : `/${p}`)) },
        { weight: 1, arbitrary: fc.nat({ max: 6000 }).map((n) => `/v1/${'a'.repeat(n)}`) },
      ),
      auth: fc.oneof(
        { weight: 8, arbitrary: fc.constant('key' as const) },
        { weight: 2, arbitrary: fc.constantFrom('none', 'wrong', 'basic', 'empty', 'long') },
      ),
      contentType: fc.constantFrom(
        'application/json',
        'application/json',
        'application/json; charset=utf-8',
        'text/plain',
        'application/xml',
        'multipart/form-data; boundary=x',
        'application/x-www-form-urlencoded',
        '',
      ),
      idempotencyKey: fc.oneof(
        fc.constant(`fz-${i}-${Date.now()}`),
        fc.constant(''),
        printable,
        fc.nat({ max: 2000 }).map((n) => 'k'.repeat(n)),
      ),
      correlation: fc.oneof(
        fc.constant(undefined),
        printable,
        fc.nat({ max: 4000 }).map((n) => 'c'.repeat(n)),
      ),
      traceparent: fc.oneof(fc.constant(undefined), printable, fc.constant('00-zz-zz-01')),
      body: body(i),
    })
    .map((c) => {
      const headers: Record<string, string> = {};
      const authValue = {
        key: `Bearer ${apiKey}`,
        none: undefined,
        wrong: 'Bearer not-the-key-0000000000000000',
        basic: 'Basic dXNlcjpwYXNz',
        empty: 'Bearer ',
        long: `Bearer ${'z'.repeat(5000)}`,
      }[c.auth];
      if (authValue) headers.authorization = authValue;
      if (c.contentType) headers['content-type'] = c.contentType;
      headers['idempotency-key'] = c.idempotencyKey;
      if (c.correlation !== undefined) headers['x-correlation-id'] = c.correlation;
      if (c.traceparent !== undefined) headers.traceparent = c.traceparent;
      const hasBody = !['GET', 'HEAD', 'OPTIONS', 'DELETE'].includes(c.method);
      return {
        method: c.method,
        path: c.path,
        headers,
        ...(hasBody ? { body: c.body.text } : {}),
        kind: `${c.method} ${c.auth} ${c.contentType || 'no-type'} ${hasBody ? c.body.kind : ''}`.trim(),
      };
    });
}

/** The bad kinds of Kafka record value; `valid` is a good value of the topic's own schema. */
export type RecordKind =
  | 'random bytes'
  | 'wrong magic byte'
  | 'other subject'
  | 'truncated'
  | 'garbage body'
  | 'huge count'
  | 'oversized'
  | 'invalid fields'
  | 'unsafe text';

export interface RecordMaterial {
  /** A valid value of this topic's schema, in the wire format. */
  valid: Buffer;
  /** The topic's own schema id. */
  ownId: number;
  /** A valid value of another subject's schema. */
  foreign: Buffer;
  /** A value whose first array announces more elements than any bound (when the schema has one). */
  hugeCount?: Buffer;
  /** A valid value whose fields the consumer must refuse (inbound only). */
  invalidFields?: Buffer;
  /** Valid values but for a control character, bidi override or key of spaces in one field (inbound only). */
  unsafeText?: Buffer[];
}

export function recordValue(m: RecordMaterial): fc.Arbitrary<{ kind: RecordKind; value: Buffer }> {
  const header = (id: number) => {
    const b = Buffer.alloc(5);
    b.writeInt32BE(id, 1);
    return b;
  };
  const options: fc.Arbitrary<{ kind: RecordKind; value: Buffer }>[] = [
    fc.uint8Array({ maxLength: 300 }).map((b) => ({ kind: 'random bytes' as const, value: Buffer.from(b) })),
    fc.integer({ min: 1, max: 255 }).map((magic) => {
      const v = Buffer.from(m.valid);
      v[0] = magic;
      return { kind: 'wrong magic byte' as const, value: v };
    }),
    fc.constant({ kind: 'other subject' as const, value: m.foreign }),
    fc
      .integer({ min: 5, max: Math.max(5, m.valid.length - 1) })
      .map((n) => ({ kind: 'truncated' as const, value: m.valid.subarray(0, n) })),
    fc.uint8Array({ minLength: 1, maxLength: 200 }).map((b) => ({
      kind: 'garbage body' as const,
      value: Buffer.concat([header(m.ownId), Buffer.from([0x80, 0x80, 0x80, 0x80, 0x10]), Buffer.from(b)]),
    })),
  ];
  if (m.hugeCount) options.push(fc.constant({ kind: 'huge count' as const, value: m.hugeCount }));
  if (m.invalidFields) options.push(fc.constant({ kind: 'invalid fields' as const, value: m.invalidFields }));
  if (m.unsafeText?.length)
    options.push(fc.constantFrom(...m.unsafeText).map((value) => ({ kind: 'unsafe text' as const, value })));
  // Oversized records are rare (about 1 in 100): each is 900 kB on the broker.
  const oversized = fc.constant({
    kind: 'oversized' as const,
    value: Buffer.concat([header(m.ownId), Buffer.alloc(900_000, 0xfe)]),
  });
  return fc.oneof(...options.map((arbitrary) => ({ arbitrary, weight: 14 })), {
    arbitrary: oversized,
    weight: 1,
  });
}

/** Headers a producer might send: none, the pipeline's own with values that are no numbers, many, long, binary. */
export const oddHeaders: fc.Arbitrary<Record<string, string | Buffer>> = fc.oneof(
  fc.constant({}),
  fc.record({
    'x-attempt': fc.constantFrom('1.5', '-1', 'NaN', '1e400', '99999999999999999999', ''),
    'x-original-offset': fc.constantFrom('abc', '1.5', '-3'),
    'x-original-partition': fc.constantFrom('2147483648', 'x'),
    'x-deadline': fc.constantFrom('1e400', 'tomorrow', '-5'),
    'x-not-before': fc.constantFrom('9e99', 'soon'),
  }),
  fc
    .nat({ max: 100 })
    .map((n) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`h-${i}`, `v${i}`]))),
  fc.constant({ 'x-correlation-id': 'c'.repeat(20_000), traceparent: 't'.repeat(5000) }),
  fc.uint8Array({ maxLength: 64 }).map((b) => ({ 'x-binary': Buffer.from(b) })),
);

/**
 * The HTTP rules of issue 31, each case with the answer a careful server gives: the Bearer scheme in
 * any case (202), a singleton header given twice (400), a content coding the API does not apply
 * (415), a control character or bidi override in any string field (422). Written byte for byte on a
 * socket (raw-http.ts): fetch cannot repeat Authorization or Host.
 */
export interface RuleCase {
  kind: string;
  request: RawRequest;
  expect: number;
}

/** The singleton fields the intake refuses twice (its SINGLETON_HEADERS). */
export const REPEATABLE_SINGLETONS = [
  'host',
  'authorization',
  'content-type',
  'idempotency-key',
  'x-correlation-id',
  'x-request-id',
  'traceparent',
] as const;

/** Characters no free-text field may hold: C0, DEL, C1, bidi embeddings/overrides/isolates. */
export const unsafeChar = fc
  .oneof(
    fc.integer({ min: 0x00, max: 0x1f }),
    fc.constant(0x7f),
    fc.integer({ min: 0x80, max: 0x9f }),
    fc.integer({ min: 0x202a, max: 0x202e }),
    fc.integer({ min: 0x2066, max: 0x2069 }),
  )
  .map((c) => String.fromCharCode(c));

const TEXT_FIELDS = [
  ['patient', 'id'],
  ['patient', 'name'],
  ['patient', 'email'],
  ['patient', 'phone'],
  ['calendarId'],
  ['reason'],
  ['source'],
  ['slot', 'timezone'],
] as const;

function withChar(body: Record<string, unknown>, path: readonly string[], ch: string, at: number) {
  const copy = JSON.parse(JSON.stringify(body)) as Record<string, unknown>;
  let o = copy;
  for (const k of path.slice(0, -1)) o = o[k] as Record<string, unknown>;
  const last = path[path.length - 1]!;
  const was = typeof o[last] === 'string' ? (o[last] as string) : 'text';
  const i = at % (was.length + 1);
  o[last] = `${was.slice(0, i)}${ch}${was.slice(i)}`;
  return copy;
}

export function ruleCase(apiKey: string, i: number, host: string): fc.Arbitrary<RuleCase> {
  const base = (extra: [string, string][], body: unknown = validBody(i)): RawRequest => ({
    method: 'POST',
    path: '/v1/appointments',
    headers: [
      ['content-type', 'application/json'],
      ['idempotency-key', `fzr-${i}-${randomUUID()}`],
      ...extra,
    ],
    body: JSON.stringify(body),
  });
  const auth = `Bearer ${apiKey}`;
  return fc.oneof(
    fc.constantFrom('bearer', 'BEARER', 'Bearer', 'bEaReR').map((scheme) => ({
      kind: `scheme ${scheme}`,
      request: base([['authorization', `${scheme} ${apiKey}`]]),
      expect: 202,
    })),
    fc
      .record({ h: fc.constantFrom(...REPEATABLE_SINGLETONS), validFirst: fc.boolean() })
      .map(({ h, validFirst }) => {
        const values: Record<string, [string, string]> = {
          host: [host, 'other.example'],
          authorization: [auth, 'Bearer not-the-key-000000000'],
          'content-type': ['application/json', 'application/json'],
          'idempotency-key': [`fzr-${i}-a-${randomUUID()}`, `fzr-${i}-b-${randomUUID()}`],
          'x-correlation-id': ['corr-a', 'corr-b'],
          'x-request-id': ['req-a', 'req-b'],
          traceparent: [
            '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
            '00-0af7651916cd43dd8448eb211c80319d-b7ad6b7169203332-01',
          ],
        };
        const [a, b] = values[h]!;
        const twice: [string, string][] = (validFirst ? [a, b] : [b, a]).map((v) => [h, v]);
        const r = base(h === 'authorization' ? twice : [['authorization', auth], ...twice]);
        // The repeated field replaces the one base() set.
        r.headers = [...r.headers.filter(([n], k) => n !== h || k >= r.headers.length - 2)];
        return { kind: `repeated ${h}`, request: r, expect: 400 };
      }),
    fc
      .constantFrom('br', 'deflate', 'gzip', 'gzip, gzip', 'compress', 'zstd', 'x-unknown', 'identity, br')
      .map((c) => ({
        kind: `content-encoding ${c}`,
        request: base([
          ['authorization', auth],
          ['content-encoding', c],
        ]),
        expect: 415,
      })),
    fc
      .record({ field: fc.constantFrom(...TEXT_FIELDS), ch: unsafeChar, at: fc.nat({ max: 64 }) })
      .map(({ field, ch, at }) => ({
        kind: `control character in ${field.join('.')}`,
        request: base([['authorization', auth]], withChar(validBody(i), field, ch, at)),
        expect: 422,
      })),
  );
}
