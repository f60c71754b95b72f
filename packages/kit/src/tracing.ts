// One trace per booking (issue 18): OpenTelemetry spans for every hop, W3C trace context carried
// on every record (`traceparent`) and on the provider call. Export is over OTLP when
// OTEL_EXPORTER_OTLP_ENDPOINT is set (the SDK is loaded only then); otherwise the API is a no-op:
// no span is recorded and the `traceparent` a record came with is passed on unchanged, as before.
import {
  type Attributes,
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import type { Logger } from './logger.js';

const TRACER = 'booking-pipeline';
const tracer = () => trace.getTracer(TRACER);

/** Starts the OpenTelemetry SDK when OTEL_EXPORTER_OTLP_ENDPOINT is set; returns its shutdown. */
export async function startTracing(service: string, logger?: Logger): Promise<() => Promise<void>> {
  if (!process.env.OTEL_EXPORTER_OTLP_ENDPOINT) return async () => undefined;
  const [{ NodeSDK }, { OTLPTraceExporter }] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
  ]);
  const sdk = new NodeSDK({
    serviceName: process.env.OTEL_SERVICE_NAME ?? service,
    traceExporter: new OTLPTraceExporter(),
  });
  sdk.start();
  logger?.info({ endpoint: process.env.OTEL_EXPORTER_OTLP_ENDPOINT }, 'tracing: spans exported over OTLP');
  return () => sdk.shutdown();
}

/** The trace context a record or request carries (its `traceparent`/`tracestate`). */
export function contextFrom(headers: { traceparent?: string | undefined; tracestate?: string | undefined }) {
  const carrier: Record<string, string> = {};
  if (headers.traceparent) carrier.traceparent = headers.traceparent;
  if (headers.tracestate) carrier.tracestate = headers.tracestate;
  return propagation.extract(ROOT_CONTEXT, carrier);
}

/**
 * Runs `fn` in a span that is a child of `parent` (a record's or request's trace context). The span
 * ends when `fn` settles; an error marks it failed and is rethrown. With no SDK, no span is recorded.
 */
export async function inSpan<T>(
  name: string,
  parent: ReturnType<typeof contextFrom>,
  attributes: Attributes,
  fn: (span: Span) => Promise<T>,
  kind: SpanKind = SpanKind.CONSUMER,
): Promise<T> {
  return tracer().startActiveSpan(name, { kind, attributes }, parent, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      throw err;
    } finally {
      span.end();
    }
  });
}

/** A span for a time that has passed already (a record's wait in its retry or delay topic). */
export function recordSpan(
  name: string,
  parent: ReturnType<typeof contextFrom>,
  startMs: number,
  endMs: number,
  attributes: Attributes,
): void {
  if (!Number.isFinite(startMs) || startMs > endMs) return;
  tracer().startSpan(name, { kind: SpanKind.INTERNAL, attributes, startTime: startMs }, parent).end(endMs);
}

/** A child span of the active one for an outgoing call: `headers` gets its traceparent. */
export async function outgoing<T>(
  name: string,
  attributes: Attributes,
  headers: Record<string, string>,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  return inSpan(
    name,
    context.active(),
    attributes,
    async (span) => {
      propagation.inject(context.active(), headers);
      return fn(span);
    },
    SpanKind.CLIENT,
  );
}

/**
 * The `traceparent` for records written now: the active span's when one is recorded, else
 * `fallback` (the one the record being handled came with), so the trace goes on either way.
 */
export function currentTraceparent(fallback: string | undefined): string | undefined {
  const span = trace.getSpan(context.active());
  if (!span?.isRecording()) return fallback;
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent ?? fallback;
}

export { SpanKind };
