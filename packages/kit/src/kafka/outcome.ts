// What a handler decides for one record, and the one place that turns a decision into records.
//
// A handler returns an Outcome: emit these events; retry for this reason (the kit's retry router
// picks the retry topic, or the dead-letter topic when the attempts or the deadline are spent); or
// dead-letter for this reason. The kit builds the retry and dead-letter records (x-attempt,
// x-not-before, x-first-seen, deadline, error headers), checks that every record goes to a topic
// the consumer declared, counts retries, dead letters and transitions, and logs each transition.
import type { Registry } from 'prom-client';
import type { Logger } from '../logger.js';
import { pipelineMetrics } from '../metrics.js';
import { deadLetterEmit } from './dead-letter.js';
import type { Emit, RecordHeaders, RecordSource } from './emit.js';
import { HEADERS, headerNumber, headerValue } from './headers.js';
import type { RetryPolicy } from './retry-policy.js';
import { routeRetry } from './retry-router.js';

/** What a record is about: carried onto the retry and dead-letter records the kit builds. */
export interface About {
  appointmentId?: string | null;
  correlationId?: string | null;
  deadline?: number | null;
  /** When the work began (x-first-seen); default: the record's header, else now. */
  firstSeen?: number;
}

export type Outcome =
  | { kind: 'emit'; emit: Emit[] }
  | {
      kind: 'retry';
      /** Why (RATE_LIMITED, PROVIDER_503…): the error class on the retry record and the metric label. */
      reason: string;
      message?: string;
      /** The provider's Retry-After, if it gave one (capped by the policy). */
      retryAfterMs?: number;
      /** This attempt never reached the outside (refused by our own circuit breaker). */
      uncalled?: boolean;
      about: About;
      /** Written whichever way the router goes. */
      emit?: Emit[];
      /** Written only when another attempt is scheduled (a RETRY_SCHEDULED transition). */
      ifRetried?: Emit[];
      /** Written only when the record is dead-lettered instead, given the dead letter's reason. */
      ifExhausted?: (reason: string) => Emit[];
      /** The dead letter's reason when spent; default the router's (RETRIES_EXHAUSTED, DEADLINE_EXCEEDED). */
      exhaustedReason?: string;
      /** An alert kind to count when spent (a person must look). */
      alertIfExhausted?: string;
    }
  | {
      kind: 'dead-letter';
      reason: string;
      message: string;
      about: About;
      fieldErrors?: string[];
      /** Written with the dead letter (a DEAD_LETTERED transition). */
      emit?: Emit[];
      alert?: string;
    };

/** Emit these records (none: the record is done). */
export const emit = (...records: Emit[]): Outcome => ({ kind: 'emit', emit: records });

/** Where a consumer's outcomes may go: what it declared. */
export interface OutcomeRoutes {
  consumer: string;
  /** The topics its handler writes to; a record for any other topic is a programming error. */
  writes: readonly string[];
  /** Its retry schedule and the topic whose retry topics it goes through; none: no 'retry' outcome. */
  retry?: { policy: RetryPolicy; sourceTopic: string };
  /** Its dead-letter topic; none: no 'dead-letter' outcome. */
  deadLetterTopic?: string;
  logger: Logger;
  metrics?: Registry;
  now?: () => number;
  random?: () => number;
}

/** The record an outcome is for: where it came from, its key, decoded value and headers. */
export interface DecidedRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: unknown;
  headers: RecordHeaders;
  source: RecordSource;
}

export class UndeclaredOutputError extends Error {
  constructor(consumer: string, topic: string) {
    super(`consumer ${consumer} wrote to ${topic}, which it does not declare`);
    this.name = 'UndeclaredOutputError';
  }
}

/** The records an outcome stands for, in the order they are written. */
export function resolveOutcome(outcome: Outcome, record: DecidedRecord, routes: OutcomeRoutes): Emit[] {
  const now = routes.now ?? Date.now;
  const m = routes.metrics ? pipelineMetrics(routes.metrics) : undefined;
  let out: Emit[];
  switch (outcome.kind) {
    case 'emit':
      out = outcome.emit;
      break;
    case 'dead-letter':
      out = [
        deadLetter(outcome.reason, outcome.message, outcome.about, outcome.fieldErrors),
        ...(outcome.emit ?? []),
      ];
      if (outcome.alert) alert(outcome.alert, outcome.about, outcome.reason);
      break;
    case 'retry': {
      if (!routes.retry) throw new Error(`consumer ${routes.consumer} has no retry schedule`);
      const a = outcome.about;
      const attempt = headerNumber(record.headers, HEADERS.attempt) ?? 1;
      const message = outcome.message ?? outcome.reason;
      const route = routeRetry({
        record,
        policy: routes.retry.policy,
        sourceTopic: routes.retry.sourceTopic,
        attempt,
        key: a.appointmentId ?? record.key ?? '',
        value: record.value,
        correlationId: correlationIdOf(a, record),
        firstSeen: a.firstSeen ?? headerNumber(record.headers, HEADERS.firstSeen) ?? now(),
        deadline: a.deadline ?? null,
        errorClass: outcome.reason,
        errorMessage: message,
        retryAfterMs: outcome.retryAfterMs,
        uncalled: (headerNumber(record.headers, HEADERS.uncalled) ?? 0) + (outcome.uncalled ? 1 : 0),
        now: now(),
        ...(routes.random ? { random: routes.random } : {}),
      });
      if (route.kind === 'retry') {
        m?.retries.inc({ reason: outcome.reason });
        routes.logger.warn(
          {
            appointmentId: a.appointmentId,
            correlationId: correlationIdOf(a, record),
            // not `reason`: that key is the patient's visit reason, redacted (PII) in every log
            failureReason: outcome.reason,
            nextAttempt: route.nextAttempt,
            notBefore: route.notBefore,
          },
          'retry scheduled',
        );
        out = [...(outcome.emit ?? []), ...(outcome.ifRetried ?? []), route.emit];
      } else {
        const reason = outcome.exhaustedReason ?? route.reason;
        if (outcome.alertIfExhausted) alert(outcome.alertIfExhausted, a, reason);
        out = [
          ...(outcome.emit ?? []),
          deadLetter(reason, route.message, a, undefined, route.attempts, outcome.reason),
          ...(outcome.ifExhausted?.(route.reason) ?? []),
        ];
      }
      break;
    }
  }
  for (const e of out) {
    if (!routes.writes.includes(e.topic) && e.topic !== routes.deadLetterTopic && !isRetryOf(e, routes))
      throw new UndeclaredOutputError(routes.consumer, e.topic);
    if (e.transition && m) {
      const t = e.transition;
      m.transitions.inc({ to: t.to });
      if (t.since !== undefined && TERMINAL.has(t.to))
        m.endToEnd.observe({ to: t.to }, (now() - t.since) / 1000);
    }
    // At debug: about five a booking; audit's trail holds every transition for good (issue 13).
    if (e.transition) {
      const t = e.transition;
      routes.logger.debug(
        {
          appointmentId: t.appointmentId,
          correlationId: t.correlationId,
          from: t.from,
          to: t.to,
          ...(t.reason ? { reason: t.reason } : {}),
          ...(t.bookingId ? { bookingId: t.bookingId } : {}),
        },
        `${t.from ?? '(new)'} -> ${t.to}`,
      );
    }
  }
  return out;

  /** A dead letter a person must look at: counted, and logged as an alert. */
  function alert(kind: string, a: About, reason: string): void {
    m?.alerts.inc({ kind });
    routes.logger.error(
      {
        alert: true,
        kind,
        appointmentId: a.appointmentId ?? null,
        correlationId: correlationIdOf(a, record),
        reason,
      },
      `${kind}: dead-lettered, needs a person`,
    );
  }

  function deadLetter(
    reason: string,
    message: string,
    a: About,
    fieldErrors?: string[],
    attempts?: number,
    errorClass?: string,
  ): Emit {
    if (!routes.deadLetterTopic) throw new Error(`consumer ${routes.consumer} has no dead-letter topic`);
    m?.deadLetters.inc({ reason });
    routes.logger.warn(
      {
        appointmentId: a.appointmentId ?? null,
        correlationId: correlationIdOf(a, record),
        failureReason: reason,
      },
      'dead-lettered',
    );
    const error = Object.assign(new Error(message), errorClass ? { name: errorClass } : {});
    return deadLetterEmit({
      dltTopic: routes.deadLetterTopic,
      source: record.source,
      reason,
      error,
      ...(a.appointmentId !== undefined ? { appointmentId: a.appointmentId } : {}),
      ...(fieldErrors ? { fieldErrors } : {}),
      attempts: attempts ?? headerNumber(record.headers, HEADERS.attempt) ?? 1,
      ...(a.deadline !== undefined ? { deadline: a.deadline } : {}),
      correlationId: correlationIdOf(a, record),
    });
  }
}

const TERMINAL = new Set(['CONFIRMED', 'REJECTED', 'FAILED', 'COMPENSATED']);

function correlationIdOf(a: About, record: DecidedRecord): string {
  return a.correlationId ?? headerValue(record.headers, HEADERS.correlationId) ?? '';
}

function isRetryOf(e: Emit, routes: OutcomeRoutes): boolean {
  return !!routes.retry && e.topic.startsWith(`${routes.retry.sourceTopic}.retry-`);
}
