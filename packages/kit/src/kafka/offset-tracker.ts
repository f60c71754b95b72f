// Which offset of a partition may be committed when records finish out of order (keys handled side
// by side), and which records above it are finished already: Confluent's Parallel Consumer model.
// The committed position is the lowest record not finished; the records finished above it travel
// with the commit as its metadata (`encodeFinished`), in the same transaction as their outputs, so
// whoever reads the partition next (after a rebalance or a crash) skips them instead of handling
// them again. Handling a finished record again is not harmless everywhere: a dispatch record re-run
// after its appointment ended creates a booking nobody waits for (issue 13's rebalance test).

/** Finished offsets above the position, in metadata; the broker's default bound is 4,096 bytes. */
export const MAX_METADATA_CHARS = 3000;
const PREFIX = 'bk1:';

export class OffsetTracker {
  /** Offsets handed out and not finished yet, in the order they were read (ascending). */
  private readonly open: bigint[] = [];
  /** When each open record was handed out (parallel to `open`). */
  private readonly openedAt: number[] = [];
  /** Finished offsets above the lowest open one. */
  private readonly finished = new Set<bigint>();
  /** The position when nothing is open: one past the last record finished or passed. */
  private after: bigint | undefined;
  private last: bigint | undefined;
  /** Where the position may go once nothing is open (past offsets that held no record). */
  private skipTo: bigint | undefined;

  /** A record read from the partition, to be handled. Offsets must come in ascending order. */
  begin(offset: bigint, at = Date.now()): void {
    if (this.last !== undefined && offset <= this.last)
      throw new Error(`offset ${offset} read after ${this.last}: offsets must ascend`);
    this.last = offset;
    this.open.push(offset);
    this.openedAt.push(at);
  }

  /** The record is handled (its outputs are on their way in a transaction). */
  finish(offset: bigint): void {
    if (!this.open.includes(offset)) throw new Error(`offset ${offset} is not open`);
    this.finished.add(offset);
    while (this.open.length > 0 && this.finished.has(this.open[0]!)) {
      const o = this.open.shift()!;
      this.openedAt.shift();
      this.finished.delete(o);
      this.after = o + 1n;
    }
    this.settle();
  }

  /**
   * Offsets below `next` that were never begun hold nothing to handle (aborted records, transaction
   * markers): once every record below them is finished, the position may pass them.
   */
  advanceTo(next: bigint): void {
    if (this.last !== undefined && next - 1n <= this.last) return;
    this.last = next - 1n;
    this.skipTo = next;
    this.settle();
  }

  private settle(): void {
    if (this.open.length === 0 && this.skipTo !== undefined) {
      if (this.after === undefined || this.skipTo > this.after) this.after = this.skipTo;
      this.skipTo = undefined;
    }
  }

  /** The offset to commit now (the lowest record not finished), or undefined before any record. */
  get position(): bigint | undefined {
    return this.open[0] ?? this.after;
  }

  /** Records finished above the position, ascending (they wait for a lower one). */
  get finishedAbove(): bigint[] {
    return [...this.finished].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** Records handed out and not finished. */
  get inFlight(): number {
    return this.open.length;
  }

  /** The highest offset handed out so far (a record at or below it is already here). */
  get lastBegun(): bigint | undefined {
    return this.last;
  }

  /**
   * Since when the lowest open record has been open: it was handed out first, so it is the oldest,
   * and nothing can be committed past it (the watchdog calls a partition stuck on this).
   */
  get lowestOpenSince(): number | undefined {
    return this.openedAt[0];
  }

  /** The lowest offset not finished (where a restart resumes), or undefined when none is open. */
  get lowestOpen(): bigint | undefined {
    return this.open[0];
  }
}

/**
 * The finished offsets above `position` as commit metadata: `bk1:` and their distances from the
 * position in base 36, comma-separated. Past MAX_METADATA_CHARS the highest are left out (they are
 * handled again by a next owner: at least once, as without metadata); `dropped` says how many.
 */
export function encodeFinished(
  position: bigint,
  finished: readonly bigint[],
): { metadata: string | null; dropped: number } {
  if (finished.length === 0) return { metadata: null, dropped: 0 };
  let text = PREFIX;
  let kept = 0;
  for (const o of finished) {
    const part = (o - position).toString(36);
    if (text.length + part.length + 1 > MAX_METADATA_CHARS) break;
    text += kept === 0 ? part : `,${part}`;
    kept++;
  }
  return { metadata: kept > 0 ? text : null, dropped: finished.length - kept };
}

/**
 * The finished offsets a commit's metadata names (an empty set for anything not of our making:
 * metadata is read back from the broker and trusted no more than any other input).
 */
export function decodeFinished(position: bigint, raw: string | null | undefined): Set<bigint> {
  const out = new Set<bigint>();
  // librdkafka's Node binding sends metadata with a trailing NUL; read by kafkajs it shows.
  const metadata = raw?.endsWith('\u0000') ? raw.slice(0, -1) : raw;
  if (!metadata?.startsWith(PREFIX) || metadata.length > MAX_METADATA_CHARS) return out;
  for (const part of metadata.slice(PREFIX.length).split(',')) {
    if (!/^[0-9a-z]{1,12}$/.test(part)) return new Set();
    const d = BigInt(Number.parseInt(part, 36));
    if (d <= 0n) return new Set();
    out.add(position + d);
  }
  return out;
}
