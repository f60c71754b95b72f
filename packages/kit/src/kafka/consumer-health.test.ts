import { describe, expect, it } from 'vitest';
import { healthy, type PartitionProgress, restartDelayMs, stalledPartitions } from './consumer-health.js';

const sample = (partition: number, committed: bigint | null, end: bigint) => ({
  topic: 't',
  partition,
  committed,
  end,
});
const none = () => undefined;

describe('stalledPartitions', () => {
  it('names a partition whose lag stays and whose committed offset does not move past the bound', () => {
    const progress = new Map<string, PartitionProgress>();
    expect(stalledPartitions([sample(0, 10n, 50n)], progress, 0, 60_000, none)).toEqual([]);
    expect(stalledPartitions([sample(0, 10n, 60n)], progress, 59_000, 60_000, none)).toEqual([]);
    expect(stalledPartitions([sample(0, 10n, 60n)], progress, 61_000, 60_000, none)).toEqual(['t/0 lag 50']);
  });

  it('forgets the clock whenever the committed offset moves', () => {
    const progress = new Map<string, PartitionProgress>();
    stalledPartitions([sample(0, 10n, 50n)], progress, 0, 60_000, none);
    stalledPartitions([sample(0, 11n, 50n)], progress, 50_000, 60_000, none);
    expect(stalledPartitions([sample(0, 11n, 50n)], progress, 100_000, 60_000, none)).toEqual([]);
    expect(stalledPartitions([sample(0, 11n, 50n)], progress, 110_001, 60_000, none)).toEqual(['t/0 lag 39']);
  });

  it('leaves out lag within the transaction-marker allowance and partitions deferred on purpose', () => {
    const progress = new Map<string, PartitionProgress>();
    const samples = [sample(0, 48n, 50n), sample(1, 0n, 9n)];
    stalledPartitions(samples, progress, 0, 1000, none);
    const deferred = (_t: string, p: number) => (p === 1 ? 5000 : undefined);
    expect(stalledPartitions(samples, progress, 2000, 1000, deferred)).toEqual([]);
    // Deferred until long ago: the deferral should have ended; the partition counts again.
    expect(stalledPartitions(samples, progress, 7000, 1000, deferred)).toEqual(['t/1 lag 9']);
  });

  it('treats a group that never committed as at offset 0', () => {
    const progress = new Map<string, PartitionProgress>();
    stalledPartitions([sample(0, null, 5n)], progress, 0, 1000, none);
    expect(stalledPartitions([sample(0, null, 5n)], progress, 1001, 1000, none)).toEqual(['t/0 lag 5']);
  });
});

describe('restartDelayMs and healthy', () => {
  it('backs off from 1 s, doubling, to 5 s, for ever', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 100].map(restartDelayMs)).toEqual([
      1000, 2000, 4000, 5000, 5000, 5000, 5000, 5000,
    ]);
  });

  it('is healthy only running and not stuck', () => {
    expect(healthy({ running: true, stuck: false, restarts: 3 })).toBe(true);
    expect(healthy({ running: false, stuck: false, restarts: 0 })).toBe(false);
    expect(healthy({ running: true, stuck: true, restarts: 0 })).toBe(false);
  });
});
