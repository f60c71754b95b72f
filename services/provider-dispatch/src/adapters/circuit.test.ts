import { type CreateOutcome, createLogger, Registry } from '@booking/kit';
import { describe, expect, it } from 'vitest';
import { dispatchMetrics } from '../metrics.js';
import { createCircuit } from './circuit.js';

const logger = createLogger({ service: 'test', level: 'silent' });
const HALF_OPEN_AFTER_MS = 60_000;
const circuit = () =>
  createCircuit({
    provider: 'p',
    failureRate: 0.8,
    window: 100,
    minCalls: 30,
    halfOpenAfterMs: HALF_OPEN_AFTER_MS,
    logger,
    metrics: dispatchMetrics(new Registry()),
  });
const ok = async (): Promise<CreateOutcome> => ({ kind: 'confirmed', bookingId: 'b' });
const down = async (): Promise<CreateOutcome> => ({ kind: 'unavailable', status: 503 });

describe('provider circuit (failure rate over a window)', () => {
  it('stays closed under mixed load where a few calendars always fail (half the calls, in bursts of 10)', async () => {
    const c = circuit();
    for (let i = 0; i < 500; i++) {
      // Bursts of five failures in a row, as retries of one failing calendar arrive together.
      const failing = i % 20 < 10;
      await c.run(failing ? down : ok);
    }
    expect(c.state).toBe('closed');
  });

  it('opens when most calls fail, once the window holds enough calls, and then holds calls back', async () => {
    const c = circuit();
    for (let i = 0; i < 29; i++) await c.run(down);
    expect(c.state).toBe('closed');
    await c.run(down);
    expect(c.state).toBe('open');
    let called = false;
    const outcome = await c.run(async () => {
      called = true;
      return ok();
    });
    expect(outcome.kind).toBe('circuit-open');
    expect(called).toBe(false);
    // Tried again once a trial may go through (the pause left, plus at most half of it), not at once.
    const after = (outcome as { retryAfterMs: number }).retryAfterMs;
    expect(after).toBeGreaterThan(HALF_OPEN_AFTER_MS - 1000);
    expect(after).toBeLessThanOrEqual(HALF_OPEN_AFTER_MS * 1.5);
  });
});
