// Issue 18: contracts a user can build against. The HTTP API's OpenAPI 3.1 document, served by
// intake at /openapi.json (built from its route schemas) with a reference page at /docs, and the
// topics' AsyncAPI 3.0 document (docs/asyncapi.yaml, generated): both validate, both are the ones
// checked in (CONTRACTS_WRITE=1 rewrites them), and they say what the code does.
import { readFileSync, writeFileSync } from 'node:fs';
import { Parser } from '@asyncapi/parser';
import { TOPIC_NAMES, topicSpecs } from '@booking/kit';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asyncApiDocument, asyncApiYaml } from '../support/asyncapi.js';
import { repoPath } from '../support/compare.js';
import { type Pipeline, startPipeline } from '../support/pipeline.js';

const WRITE = process.env.CONTRACTS_WRITE === '1';
let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline('contracts');
}, 120_000);
afterAll(async () => {
  await p?.stop();
});

describe('the HTTP API (OpenAPI 3.1)', () => {
  it('is served at /openapi.json without a key, validates, and documents every route', async () => {
    const res = await fetch(`${p.intakeUrl}/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      openapi: string;
      paths: Record<string, Record<string, { requestBody?: unknown; responses: Record<string, unknown> }>>;
    };
    const result = await new Validator().validate(doc as never);
    expect(result.errors ?? [], JSON.stringify(result.errors)).toEqual([]);
    expect(result.valid).toBe(true);
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths).sort()).toEqual(['/v1/appointments', '/v1/appointments/{id}']);
    const post = doc.paths['/v1/appointments']!.post!;
    expect(Object.keys(post.responses).sort()).toEqual([
      '202',
      '400',
      '401',
      '409',
      '413',
      '415',
      '422',
      '429',
      '503',
    ]);
    const body = JSON.stringify(post.requestBody);
    for (const field of ['patient', 'calendarId', 'slot', 'deadline']) expect(body).toContain(`"${field}"`);
    // The checked-in copy (README, docs/producers.md link it) is the served one.
    // Compared as data: the formatter (biome) may lay the file out its own way.
    const file = repoPath('docs/openapi.json');
    if (WRITE) writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(doc);
  });

  it('renders a reference page at /docs', async () => {
    const res = await fetch(`${p.intakeUrl}/docs/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(await res.text()).toContain('swagger');
  });

  it('still validates with zod, field by field: the documented schema checks nothing twice', async () => {
    const res = await p.api('/v1/appointments', {
      method: 'POST',
      headers: { 'idempotency-key': 'contract-key-1' },
      body: JSON.stringify({
        calendarId: 'cal-immediate-x',
        slot: { start: 'not a time', end: 'x', timezone: 'Nowhere/Here' },
      }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string; errors: { field: string }[] };
    expect(body.error).toBe('VALIDATION_FAILED');
    expect(body.errors.map((e) => e.field)).toEqual(expect.arrayContaining(['patient', 'slot.start']));
  });
});

describe('the topics (AsyncAPI 3.0)', () => {
  it('docs/asyncapi.yaml is generated from the topic table, the schemas and the declarations, and validates', async () => {
    const file = repoPath('docs/asyncapi.yaml');
    if (WRITE) writeFileSync(file, asyncApiYaml());
    const text = readFileSync(file, 'utf8');
    expect(text).toBe(asyncApiYaml());
    const { document, diagnostics } = await new Parser().parse(text);
    const errors = diagnostics.filter((d) => d.severity === 0);
    expect(errors.map((d) => `${d.path.join('.')}: ${d.message}`)).toEqual([]);
    expect(document).toBeDefined();
    // Every topic the pipeline creates is a channel, with its Avro schema.
    const channels = Object.values(asyncApiDocument().channels as Record<string, { address: string }>).map(
      (c) => c.address,
    );
    expect(channels.sort()).toEqual(
      topicSpecs()
        .map((s) => s.name)
        .sort(),
    );
    expect(
      document!
        .channels()
        .all()
        .map((c) => c.address()),
    ).toContain(TOPIC_NAMES.inbound);
  });
});
