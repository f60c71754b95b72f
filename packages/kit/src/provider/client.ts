// The calendar provider's /api/v2 (../shared/PROVIDER_API.md). Every answer is classified once,
// here, into an outcome; timeouts and dropped connections are "ambiguous": the provider may have
// booked, so the caller must look the booking up before creating again.

import { PipelineError } from '../errors.js';
import { outgoing } from '../tracing.js';
import { createTransport, type Transport, type TransportResponse } from './transport.js';

export interface ProviderBooking {
  bookingId: string;
  status: 'PENDING' | 'CONFIRMED' | 'REJECTED' | 'CANCELLED';
  externalRef: string;
  calendarId?: string;
}

export interface CreateBookingRequest {
  externalRef: string;
  calendarId: string;
  slot: { start: string; end: string; timezone: string };
  patient: { ref: string; displayName: string };
  reason?: string;
}

export type CreateOutcome =
  | { kind: 'confirmed'; bookingId: string }
  | { kind: 'pending'; bookingId: string; retryAfterMs: number }
  | { kind: 'rejected'; status: number; error: string }
  | { kind: 'auth' }
  | { kind: 'rate-limited'; retryAfterMs: number }
  | { kind: 'unavailable'; status: number }
  | { kind: 'timeout'; ambiguous: true }
  | { kind: 'connection'; ambiguous: true; message: string };

/** The client a service's configuration describes (providerConfigShape). */
export function providerClientOf(c: {
  PROVIDER_URL: string;
  PROVIDER_TOKEN: string;
  PROVIDER_TIMEOUT_MS: number;
}): ProviderClient {
  return new ProviderClient({
    baseUrl: c.PROVIDER_URL,
    token: c.PROVIDER_TOKEN,
    timeoutMs: c.PROVIDER_TIMEOUT_MS,
  });
}

export interface ProviderClientOptions {
  baseUrl: string;
  token: string;
  /** Timeout of look-ups and cancels (creates take theirs per call, bounded by the deadline). */
  timeoutMs: number;
  /** The HTTP underneath (default: node:http with keep-alive, transport.ts). */
  transport?: Transport;
}

/** One keep-alive pool per process: every client of the same provider shares its connections. */
let shared: Transport | undefined;
function sharedTransport(): Transport {
  if (!shared) shared = createTransport();
  return shared;
}

/** What a provider's booking id and error code may look like; anything else is not trusted. */
const BOOKING_ID = /^[\w.:-]{1,128}$/;
const ERROR_CODE = /^[A-Z][A-Z0-9_]{0,63}$/;

/** The provider's word on when to come back, never trusted beyond this (issue 12). */
export const MAX_PROVIDER_WAIT_MS = 3_600_000;

/** A finite number of ms within [0, MAX_PROVIDER_WAIT_MS]; `fallback` for anything else. */
export function boundedWaitMs(value: unknown, fallback = 1000): number {
  const n =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && value.trim()
        ? Number(value)
        : Number.NaN;
  return Number.isFinite(n) ? Math.min(MAX_PROVIDER_WAIT_MS, Math.max(0, n)) : fallback;
}

/** Retry-After as seconds or an HTTP date (RFC 9110 §10.2.3), bounded. */
export function retryAfterMs(header: string | null): number {
  if (!header || header.length > 64) return 1000;
  if (/^\d+$/.test(header.trim())) return boundedWaitMs(Number(header.trim()) * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? 1000 : boundedWaitMs(date - Date.now());
}

function isAbort(err: unknown): boolean {
  return err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
}

export class ProviderClient {
  private readonly transport: Transport;

  constructor(private readonly opts: ProviderClientOptions) {
    this.transport = opts.transport ?? sharedTransport();
  }

  /**
   * One provider call in a client span, a child of the handler's: the request carries its
   * `traceparent`, so the provider (and a tracing proxy in front of it) joins the booking's trace.
   */
  private call(
    req: Parameters<Transport>[0],
    op: 'create' | 'read' | 'cancel',
    appointmentId?: string,
  ): Promise<TransportResponse> {
    return outgoing(
      `provider ${op}`,
      {
        'http.request.method': req.method,
        ...(appointmentId ? { 'booking.appointment_id': appointmentId } : {}),
      },
      req.headers,
      async (span) => {
        const res = await this.transport(req);
        span.setAttribute('http.response.status_code', res.status);
        return res;
      },
    );
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { authorization: `Bearer ${this.opts.token}`, accept: 'application/json', ...extra };
  }

  async create(
    body: CreateBookingRequest,
    timeoutMs: number,
    idempotencyKey?: string,
  ): Promise<CreateOutcome> {
    let res: TransportResponse;
    try {
      res = await this.call(
        {
          method: 'POST',
          url: `${this.opts.baseUrl}/api/v2/appointments`,
          headers: this.headers({
            'content-type': 'application/json',
            ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}),
          }),
          body: JSON.stringify(body),
          timeoutMs,
        },
        'create',
        body.externalRef,
      );
    } catch (err) {
      if (isAbort(err)) return { kind: 'timeout', ambiguous: true };
      const e = err as Error & { code?: string };
      return { kind: 'connection', ambiguous: true, message: e.code ?? e.message };
    }
    const payload = res.json;
    switch (true) {
      case (res.status === 201 || res.status === 202) && !BOOKING_ID.test(String(payload.bookingId)):
        // A success without a usable booking id is no answer we can act on: treat it as an outage
        // (retried, then reconciled by externalRef), never store what it sent.
        return { kind: 'unavailable', status: res.status };
      case res.status === 201:
        return { kind: 'confirmed', bookingId: String(payload.bookingId) };
      case res.status === 202:
        return {
          kind: 'pending',
          bookingId: String(payload.bookingId),
          retryAfterMs: boundedWaitMs(payload.retryAfterMs),
        };
      case res.status === 401:
        return { kind: 'auth' };
      case res.status === 429:
        return { kind: 'rate-limited', retryAfterMs: retryAfterMs(res.header('retry-after')) };
      case res.status === 409 || res.status === 400 || res.status === 422:
        // Only an error code is kept from the provider's body: its free text may echo personal data.
        return {
          kind: 'rejected',
          status: res.status,
          error: ERROR_CODE.test(String(payload.error)) ? String(payload.error) : 'REJECTED',
        };
      default:
        return { kind: 'unavailable', status: res.status };
    }
  }

  private async read(
    path: string,
    method: 'GET' | 'DELETE',
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    try {
      const res = await this.call(
        {
          method,
          url: `${this.opts.baseUrl}${path}`,
          headers: this.headers(),
          timeoutMs: this.opts.timeoutMs,
        },
        method === 'DELETE' ? 'cancel' : 'read',
      );
      const body = res.json;
      if (res.status === 401)
        throw new PipelineError('PROVIDER_AUTH', 'provider refused our token (401)', { retryable: true });
      if (res.status === 429 || res.status >= 500) {
        throw new PipelineError(
          'PROVIDER_UNAVAILABLE',
          `provider answered ${res.status} to ${method} ${path}`,
          { retryable: true },
        );
      }
      return { status: res.status, body };
    } catch (err) {
      if (err instanceof PipelineError) throw err;
      throw new PipelineError(
        isAbort(err) ? 'PROVIDER_TIMEOUT' : 'PROVIDER_UNAVAILABLE',
        `${method} ${path}: ${(err as Error).message}`,
        {
          cause: err,
          retryable: true,
        },
      );
    }
  }

  /** Every booking the provider holds for this externalRef (the basis of adoption and reconciliation). */
  async findByExternalRef(externalRef: string): Promise<ProviderBooking[]> {
    const { status, body } = await this.read(
      `/api/v2/appointments?externalRef=${encodeURIComponent(externalRef)}`,
      'GET',
    );
    if (status !== 200)
      throw new PipelineError('PROVIDER_UNAVAILABLE', `look-up answered ${status}`, { retryable: true });
    return (body.items as ProviderBooking[]) ?? [];
  }

  /** The booking, or null when the provider does not know it (404). */
  async get(bookingId: string): Promise<ProviderBooking | null> {
    const { status, body } = await this.read(`/api/v2/appointments/${encodeURIComponent(bookingId)}`, 'GET');
    if (status === 404) return null;
    if (status !== 200)
      throw new PipelineError('PROVIDER_UNAVAILABLE', `get answered ${status}`, { retryable: true });
    return body as unknown as ProviderBooking;
  }

  /** Cancels; true when cancelled (again), false when the provider does not know the booking. */
  async cancel(bookingId: string): Promise<boolean> {
    const { status } = await this.read(`/api/v2/appointments/${encodeURIComponent(bookingId)}`, 'DELETE');
    if (status === 404) return false;
    if (status !== 200)
      throw new PipelineError('PROVIDER_UNAVAILABLE', `cancel answered ${status}`, { retryable: true });
    return true;
  }
}
