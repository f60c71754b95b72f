import { describe, expect, it } from 'vitest';
import { pipelineResult } from './measure.js';

describe('pipelineResult', () => {
  it('counts terminal states and the unfinished, and rates confirmations over first acceptance to last confirmation', () => {
    const traces = [
      { acceptedAt: 1000, terminal: { state: 'CONFIRMED', at: 1010 } },
      { acceptedAt: 1500, terminal: { state: 'CONFIRMED', at: 1540 } },
      { acceptedAt: 1600, terminal: { state: 'CONFIRMED', at: 2000 } },
      { acceptedAt: 1700, terminal: { state: 'REJECTED', at: 1800 } },
      { acceptedAt: 1800 },
    ];
    const r = pipelineResult({ targetRate: 500, durationS: 1, produced: 6, produceMs: 1000 }, traces);
    expect(r).toMatchObject({
      produced: 6,
      offered_per_s: 6,
      accepted: 5,
      confirmed: 3,
      by_terminal_state: { CONFIRMED: 3, REJECTED: 1 },
      unfinished: 2,
      confirmed_per_s: 3,
    });
    expect(r.latency_accepted_to_confirmed).toMatchObject({ count: 3, p50_ms: 40, max_ms: 400 });
  });

  it('measures the open loop from the scheduled send time, so a late send is not forgiven', () => {
    const traces = [
      // Sent 300 ms after its slot (the generator fell behind): counted from the slot.
      {
        scheduledAt: 0,
        sentAt: 300,
        acceptedAt: 310,
        terminal: { state: 'CONFIRMED', at: 320 },
        seenAt: 330,
      },
      { scheduledAt: 10, sentAt: 10, acceptedAt: 20, terminal: { state: 'CONFIRMED', at: 30 }, seenAt: 40 },
    ];
    const r = pipelineResult({ targetRate: 100, durationS: 1, produced: 2, produceMs: 1000 }, traces);
    expect(r.latency_scheduled_to_seen_confirmed).toMatchObject({ count: 2, max_ms: 330 });
    expect(r.latency_accepted_to_confirmed).toMatchObject({ max_ms: 10 });
  });
});
