// The compensation handler's decisions, with the provider as a plain fake (the outside world) and
// everything else real: what it emits for a cancel that worked, a duplicate, a retryable failure, a
// failure past the last attempt, and a programming error.
import {
  Counter,
  createLogger,
  createMetricsRegistry,
  HEADERS,
  PipelineError,
  type ProviderClient,
  type RuntimeRecord,
} from '@booking/kit';
import type { CompensationCommand } from '@booking/schemas';
import { describe, expect, it } from 'vitest';
import { compensateHandler } from './compensate.js';

const topics = { compensation: 'comp', compensationDlt: 'comp-dlt', lifecycle: 'life' };
const command = (cause: CompensationCommand['cause'] = 'LATE_CONFIRMATION'): CompensationCommand => ({
  commandId: 'cmd-1',
  appointmentId: '34963e3c-2864-885e-a293-e740cc9d7ef2',
  bookingId: 'bk_1',
  calendarId: 'cal-x',
  cause,
  requestedAt: 1000,
  correlationId: 'corr-1',
});
const record = (c: CompensationCommand, attempt = 1): RuntimeRecord<CompensationCommand> => ({
  topic: 'comp',
  partition: 0,
  offset: '7',
  key: c.appointmentId,
  value: c,
  headers: { [HEADERS.attempt]: String(attempt) },
  timestamp: '0',
  source: {
    topic: 'comp',
    partition: 0,
    message: { key: Buffer.from(c.appointmentId), value: Buffer.from([0]), offset: '7' },
  },
});
function handler(cancel: ProviderClient['cancel']) {
  const registry = createMetricsRegistry('compensation-test');
  const metrics = {
    outcomes: new Counter({ name: 'o', help: 'o', labelNames: ['outcome'], registers: [registry] }),
    alerts: new Counter({ name: 'a', help: 'a', labelNames: ['kind'], registers: [registry] }),
  };
  const handle = compensateHandler({
    provider: { cancel } as unknown as ProviderClient,
    topics,
    retry: { delaysMs: [1000, 4000], maxAttempts: 3, jitter: 0 },
    logger: createLogger({ service: 'test', level: 'silent' }),
    metrics,
    now: () => 50_000,
  });
  return { handle, metrics };
}
Object.assign(new Error('provider answered 503'), { name: 'PipelineError', retryable: true });
const transient = async (): Promise<boolean> => {
  throw new PipelineError('PROVIDER_UNAVAILABLE', 'provider answered 503', { retryable: true });
};

describe('compensateHandler decides', () => {
  it('a cancelled booking: COMPENSATED', async () => {
    const out = await handler(async () => true).handle(record(command()));
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({
      topic: 'life',
      key: command().appointmentId,
      value: { from: 'COMPENSATING', to: 'COMPENSATED' },
    });
  });

  it("a duplicate booking: cancelled, and the appointment's state untouched", async () => {
    expect(await handler(async () => true).handle(record(command('DUPLICATE_BOOKING')))).toEqual([]);
  });

  it('a provider outage: the next compensation retry topic, attempt 2', async () => {
    const out = await handler(transient).handle(record(command(), 1));
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({
      topic: 'comp.retry-1s',
      headers: { [HEADERS.attempt]: '2', [HEADERS.notBefore]: '51000' },
    });
  });

  it('past the last attempt: its own dead-letter topic, and an alert for a person', async () => {
    const { handle, metrics } = handler(transient);
    const out = await handle(record(command(), 3));
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({
      topic: 'comp-dlt',
      value: { reason: 'COMPENSATION_FAILED', attempts: 3 },
    });
    expect((await metrics.alerts.get()).values[0]).toMatchObject({
      labels: { kind: 'compensation_failed' },
      value: 1,
    });
  });

  it('a programming error is not retried: it is thrown for the runtime to dead-letter', async () => {
    await expect(
      handler(async () => {
        throw new TypeError('bug');
      }).handle(record(command())),
    ).rejects.toThrow('bug');
  });
});
