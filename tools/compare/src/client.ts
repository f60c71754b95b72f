// The upstream client both projects get: the same requests, timeout and retry policy. It retries
// what a real client retries (a timeout, a network error, a 5xx, "key in use") with the same
// headers and body, so a service without idempotency meets the duplicates real traffic brings.
import { randomUUID } from 'node:crypto';
import type { ClientPolicy, ResponseOutcome, TestCase } from './data-file.js';
import { mergePatch, resolve, type TemplateContext } from './template.js';

export interface Target {
  project: 'A' | 'B';
  /** Full URL of the booking endpoint. */
  url: string;
  headers: Record<string, string>;
  /** The appointment id in a successful answer. */
  idOf(status: number, body: unknown): string | undefined;
}

export interface Attempt {
  /** The x-request-id sent: a mirror journals the shadow's answer under it. */
  requestId: string;
  startedAt: number;
  endedAt: number;
  outcome: ResponseOutcome;
  error?: string;
}

export interface SendResult {
  index: number;
  attempts: Attempt[];
  outcome: ResponseOutcome;
  /** The id a successful answer carried. */
  id?: string;
  /** The error code in a 4xx answer's body. */
  errorCode?: string;
}

export interface CaseRun {
  caseId: string;
  scenario: string;
  uid: string;
  calendarIds: string[];
  startedAt: number;
  finishedAt: number;
  sends: SendResult[];
}

export type Sleep = (ms: number) => Promise<void>;
const sleep: Sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function retryable(outcome: ResponseOutcome, errorCode?: string): boolean {
  if (outcome === 'timeout' || outcome === 'network') return true;
  if (outcome >= 500) return true;
  return outcome === 409 && errorCode === 'IDEMPOTENCY_KEY_IN_USE';
}

async function attempt(
  target: Target,
  headers: Record<string, string>,
  payload: string,
  timeoutMs: number,
): Promise<{ attempt: Attempt; body?: unknown }> {
  const startedAt = Date.now();
  const requestId = randomUUID();
  try {
    const res = await fetch(target.url, {
      method: 'POST',
      headers: { ...headers, ...target.headers, 'x-request-id': requestId },
      body: payload,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    return { attempt: { requestId, startedAt, endedAt: Date.now(), outcome: res.status }, body };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    const timeout = e.name === 'TimeoutError' || e.name === 'AbortError';
    return {
      attempt: {
        requestId,
        startedAt,
        endedAt: Date.now(),
        outcome: timeout ? 'timeout' : 'network',
        error: timeout ? 'timeout' : (e.cause?.code ?? e.message),
      },
    };
  }
}

async function sendOnce(
  target: Target,
  index: number,
  headers: Record<string, string>,
  payload: string,
  policy: ClientPolicy,
  pause: Sleep,
): Promise<SendResult> {
  const attempts: Attempt[] = [];
  for (let n = 0; ; n++) {
    const { attempt: a, body } = await attempt(target, headers, payload, policy.timeoutMs);
    attempts.push(a);
    const errorCode =
      body && typeof body === 'object' && typeof (body as { error?: unknown }).error === 'string'
        ? (body as { error: string }).error
        : undefined;
    if (n < policy.retries && retryable(a.outcome, errorCode)) {
      await pause(policy.backoffMs * 2 ** n);
      continue;
    }
    const id = typeof a.outcome === 'number' ? target.idOf(a.outcome, body) : undefined;
    return {
      index,
      attempts,
      outcome: a.outcome,
      ...(id ? { id } : {}),
      ...(errorCode ? { errorCode } : {}),
    };
  }
}

/** Sends one case as its `send` rule says and returns every attempt's outcome. */
export async function runCase(
  target: Target,
  c: TestCase,
  ctx: TemplateContext & { caseId: string },
  defaults: ClientPolicy,
  pause: Sleep = sleep,
): Promise<CaseRun> {
  const policy: ClientPolicy = { ...defaults, ...(c.client ?? {}) };
  const headers = resolve(c.request.headers, ctx);
  const bodies = Array.from({ length: c.send.times }, (_, i) =>
    c.request.rawBody !== undefined
      ? undefined
      : resolve(mergePatch(c.request.body, c.send.patches?.[i] ?? null), ctx),
  );
  const payloads = bodies.map((b) =>
    b === undefined ? String(resolve(c.request.rawBody ?? '', ctx)) : JSON.stringify(b),
  );
  const calendarIds = [
    ...new Set(
      bodies
        .map((b) => (b as { calendarId?: unknown } | undefined)?.calendarId)
        .filter((v): v is string => typeof v === 'string'),
    ),
  ];
  const startedAt = Date.now();
  const one = (i: number) => sendOnce(target, i, headers, payloads[i]!, policy, pause);
  let sends: SendResult[];
  if (c.send.mode === 'concurrent') {
    sends = await Promise.all(payloads.map((_, i) => one(i)));
  } else {
    sends = [];
    for (let i = 0; i < payloads.length; i++) sends.push(await one(i));
  }
  return {
    caseId: ctx.caseId,
    scenario: c.scenario,
    uid: ctx.uid,
    calendarIds,
    startedAt,
    finishedAt: Date.now(),
    sends,
  };
}
