// Burrow's consumer status rules (docs/operations.md), over a sliding window of offset samples per
// partition. Pure: the poller feeds samples, the rules read them. One difference from Burrow: Burrow
// reads every commit from __consumer_offsets and calls a partition STOPped when commits cease; the
// admin API shows only the committed offset, not when it was committed, so here STOP means the
// offset has not moved for `stopAfterMs` (STALL: it has not moved across the window, for less).
export const STATUSES = ['OK', 'WARN', 'REWIND', 'STALL', 'STOP'] as const;
export type Status = (typeof STATUSES)[number];

export interface Sample {
  /** Epoch ms of the reading. */
  at: number;
  /** Committed offset (the next record the group will read). */
  committed: number;
  /** Lag in records after the allowance (0 when within it). */
  lag: number;
  /** Epoch ms the committed offset last changed, as far as the poller has seen. */
  committedAt: number;
}

/**
 * One partition's status from its window (oldest first):
 * 1. no samples, or the newest lag is 0 → OK;
 * 2. STOP: lag > 0 and the committed offset has not moved for longer than `stopAfterMs`;
 * 3. REWIND: the committed offset went backwards inside the window;
 * 4. STALL: lag > 0 in every sample and the committed offset never moved across a full window;
 * 5. WARN: lag > 0 in every sample and it grew from each sample to the next across a full window;
 * 6. otherwise OK (the consumer is committing and keeping up or catching up).
 */
export function partitionStatus(
  window: readonly Sample[],
  size: number,
  now: number,
  stopAfterMs: number,
): Status {
  const last = window.at(-1);
  if (!last || last.lag === 0) return 'OK';
  const first = window[0]!;
  if (now - last.committedAt > stopAfterMs) return 'STOP';
  for (let i = 1; i < window.length; i++)
    if (window[i]!.committed < window[i - 1]!.committed) return 'REWIND';
  const full = window.length >= size;
  const lagging = window.every((s) => s.lag > 0);
  if (full && lagging && window.every((s) => s.committed === first.committed)) return 'STALL';
  if (full && lagging && window.every((s, i) => i === 0 || s.lag > window[i - 1]!.lag)) return 'WARN';
  return 'OK';
}

const rank = (s: Status) => STATUSES.indexOf(s);

/** A group's status is its worst partition's. */
export function worst(statuses: Iterable<Status>): Status {
  let out: Status = 'OK';
  for (const s of statuses) if (rank(s) > rank(out)) out = s;
  return out;
}
