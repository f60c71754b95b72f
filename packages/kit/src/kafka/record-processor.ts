// One record through its handler: decoded with its registered writer schema resolved to the
// consumer's contract, handled, and its outputs encoded. What comes back says what to do with it:
// done (with the records to write; a poison record's are its dead letter) or transient (not the
// record's fault: try it again later). Knows nothing of partitions, offsets or transactions.
import type { SchemaName } from '@booking/schemas';
import type { Span } from '@opentelemetry/api';
import type { KafkaMessage } from 'kafkajs';
import type { Counter } from 'prom-client';
import { DecodeError, errorCode, isTransient } from '../errors.js';
import type { Logger } from '../logger.js';
import { contextFrom, currentTraceparent, inSpan, recordSpan } from '../tracing.js';
import type { Emit, RecordHeaders, RecordSource } from './emit.js';
import { HEADERS, headerValue } from './headers.js';
import type { AvroSerde } from './serde.js';
import { type Encoded, OutputRejectedError } from './transactional-sender.js';

/** What a handler gets: the decoded value and where it came from; no Kafka client type. */
export interface RuntimeRecord<T> {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: T;
  headers: RecordHeaders;
  timestamp: string;
  /** The record as it was on the topic, for a dead letter. */
  source: RecordSource;
}

/** Why a record is poison: it does not decode, its handler refused it for good, or its outputs cannot be written. */
export type PoisonReason = 'DECODE_FAILED' | 'HANDLER_FAILED' | 'OUTPUT_REJECTED';

export type PoisonSource = RecordSource;

export type Processed = { kind: 'done'; out: Encoded[] } | { kind: 'transient'; err: unknown };

export interface RecordProcessorOptions<T> {
  name: string;
  schema: SchemaName;
  serde: AvroSerde;
  handle: (record: RuntimeRecord<T>) => Promise<Emit[]>;
  onPoison: (source: PoisonSource, error: unknown, reason: PoisonReason) => Emit[];
  /** Encodes and size-checks outputs (throws OutputRejectedError for one that cannot be written). */
  prepare: (out: Emit[]) => Promise<Encoded[]>;
  records?: Counter<'consumer' | 'outcome'>;
}

export class RecordProcessor<T> {
  constructor(private readonly opts: RecordProcessorOptions<T>) {}

  async process(topic: string, partition: number, message: KafkaMessage, log: Logger): Promise<Processed> {
    // One span per record handled, a child of the trace the record carries (tracing.ts); with no
    // tracing configured it records nothing and costs next to nothing.
    const parent = contextFrom({ traceparent: headerValue(message.headers, HEADERS.traceparent) });
    // A delayed record (a retry or a poll) waited from when it was written until it was due: that
    // wait is a span of its own, so a trace shows where the time went.
    if (headerValue(message.headers, HEADERS.notBefore) !== undefined)
      recordSpan(`${this.opts.name} wait`, parent, Number(message.timestamp), Date.now(), {
        'messaging.destination.name': topic,
      });
    return inSpan(
      `${this.opts.name} process`,
      parent,
      {
        'messaging.system': 'kafka',
        'messaging.destination.name': topic,
        'messaging.kafka.partition': partition,
        'messaging.kafka.offset': message.offset,
        'booking.consumer': this.opts.name,
      },
      (span) => this.processInSpan(topic, partition, message, log, span),
    );
  }

  private async processInSpan(
    topic: string,
    partition: number,
    message: KafkaMessage,
    log: Logger,
    span: Span,
  ): Promise<Processed> {
    try {
      const { value } = await this.opts.serde.decode<T>(message.value, { topic, schema: this.opts.schema });
      const appointmentId = (value as { appointmentId?: unknown } | null)?.appointmentId;
      if (typeof appointmentId === 'string') span.setAttribute('booking.appointment_id', appointmentId);
      const handled = await this.opts.handle({
        topic,
        partition,
        offset: message.offset,
        key: message.key ? message.key.toString() : null,
        value,
        headers: message.headers ?? {},
        timestamp: message.timestamp,
        source: { topic, partition, message },
      });
      // The records written go on with this span's trace context (with tracing off: as they came).
      const out = handled.map((e) =>
        e.headers?.[HEADERS.traceparent]
          ? {
              ...e,
              headers: {
                ...e.headers,
                [HEADERS.traceparent]: currentTraceparent(e.headers[HEADERS.traceparent])!,
              },
            }
          : e,
      );
      // Encoded here, per record: an output that cannot be written makes this record poison, not
      // a whole transaction (issue 12: such a batch used to fail and be re-read for ever).
      const encoded = await this.opts.prepare(out);
      this.count('ok');
      return { kind: 'done', out: encoded };
    } catch (err) {
      if (isTransient(err)) {
        span.setAttribute('booking.outcome', 'transient');
        return { kind: 'transient', err };
      }
      span.setAttribute('booking.outcome', 'poison');
      const reason: PoisonReason =
        err instanceof DecodeError
          ? 'DECODE_FAILED'
          : err instanceof OutputRejectedError
            ? 'OUTPUT_REJECTED'
            : 'HANDLER_FAILED';
      log.error(
        {
          offset: message.offset,
          errorCode: errorCode(err),
          err,
          correlationId: headerValue(message.headers, HEADERS.correlationId),
        },
        'poison record: dead-lettered',
      );
      this.count('poison');
      try {
        return {
          kind: 'done',
          out: await this.opts.prepare(this.opts.onPoison({ topic, partition, message }, err, reason)),
        };
      } catch (dltErr) {
        if (isTransient(dltErr)) return { kind: 'transient', err: dltErr };
        // Not even its dead letter can be written: say where it is, and move on.
        log.error(
          { offset: message.offset, errorCode: errorCode(dltErr), err: dltErr },
          'poison record could not be dead-lettered either: skipped',
        );
        this.count('skipped');
        return { kind: 'done', out: [] };
      }
    }
  }

  private count(outcome: string): void {
    this.opts.records?.inc({ consumer: this.opts.name, outcome });
  }
}
