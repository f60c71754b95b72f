// Issue 18: one trace per booking. A flaky booking (one 503, then confirmed) sent with the caller's
// W3C traceparent: every hop records a span in that one trace, in order: intake's accept, dispatch's
// first attempt and its provider call (503), the wait in the retry topic, the second attempt and
// its provider call (201), and audit's handling of the lifecycle events; each carries the
// appointment id, and no span holds personal data. The services run in this process with the
// OpenTelemetry SDK's in-memory exporter registered globally, as the real SDK would be.
import { randomBytes, randomUUID } from 'node:crypto';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/helpers.js';
import { type Pipeline, requestBody, startPipeline } from '../support/pipeline.js';
import { TEST_PII } from '../support/test-data.js';

const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
let p: Pipeline;

beforeAll(async () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  p = await startPipeline('tracing');
}, 120_000);
afterAll(async () => {
  await p?.stop();
  await provider.shutdown();
});

describe('one trace per booking', () => {
  it('holds every hop of a flaky booking, in order, with the appointment id and no personal data', async () => {
    const traceId = randomBytes(16).toString('hex');
    const res = await p.api('/v1/appointments', {
      method: 'POST',
      headers: {
        'idempotency-key': randomUUID(),
        traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`,
      },
      body: JSON.stringify(requestBody(`cal-flaky-1-${randomUUID().slice(0, 8)}`)),
    });
    expect(res.status).toBe(202);
    const { appointmentId } = (await res.json()) as { appointmentId: string };
    await p.waitForState(appointmentId, 'CONFIRMED', 30_000);
    const mine = () => exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
    // Audit's handling of CONFIRMED is the last hop: wait (bounded) until its span has ended.
    const spans = await waitFor(
      'the spans of every hop',
      () => {
        const all = mine();
        const audited = all.filter((s) => s.name === 'lifecycle process');
        return all.length >= 8 && audited.length >= 3 ? all : null;
      },
      20_000,
    );
    const ordered = [...spans].sort((a, b) => hr(a.startTime) - hr(b.startTime));
    const names = ordered.map((s) => s.name);
    const first = (name: string, from = 0) => names.findIndex((n, i) => i >= from && n === name);
    const accept = first('intake accept');
    // Consumers are named as declared: dispatch's `requests`, audit's `lifecycle`.
    const dispatch1 = first('requests process');
    const create1 = first('provider create', dispatch1);
    const wait = first('requests wait');
    const create2 = first('provider create', create1 + 1);
    expect(accept, names.join(' | ')).toBe(0);
    expect(dispatch1, names.join(' | ')).toBeGreaterThan(accept);
    expect(create1, names.join(' | ')).toBeGreaterThan(dispatch1);
    expect(wait, names.join(' | ')).toBeGreaterThan(create1);
    expect(create2, names.join(' | ')).toBeGreaterThan(wait);
    const dispatch2 = first('requests process', wait);
    expect(dispatch2, names.join(' | ')).toBeGreaterThan(wait);
    expect(dispatch2, names.join(' | ')).toBeLessThan(create2);
    // Audit handled the lifecycle events of this booking in the same trace, the last one after the
    // confirming provider call.
    expect(names.lastIndexOf('lifecycle process'), names.join(' | ')).toBeGreaterThan(create2);
    const status = (i: number) => ordered[i]!.attributes['http.response.status_code'];
    expect([status(create1), status(create2)]).toEqual([503, 201]);
    // Every span handling this booking's records names it; none holds personal data.
    for (const s of ordered.filter((x) => / process$|^intake accept$|^provider create$/.test(x.name)))
      expect(s.attributes['booking.appointment_id'], s.name).toBe(appointmentId);
    const text = JSON.stringify(ordered.map((s) => s.attributes));
    for (const v of [...TEST_PII.names, ...TEST_PII.phones, ...TEST_PII.emails])
      expect(text).not.toContain(v);
  });
});

const hr = ([s, ns]: [number, number]) => s * 1e9 + ns;
