// Which offset of a partition may be committed when records finish out of order (keys handled side
// by side): everything below the lowest record not yet finished, as Confluent's Parallel Consumer
// commits. A record finished above that waits in `done` until the records below it finish; if the
// process dies first it is read and handled again (handlers are idempotent, emitted ids deterministic).
export class OffsetTracker {
  /** Offsets handed out and not finished yet, in the order they were read (ascending). */
  private readonly open: bigint[] = [];
  /** When each open record was handed out (parallel to `open`). */
  private readonly openedAt: number[] = [];
  private readonly finished = new Set<bigint>();
  /** The next offset to commit (one past the last record of the finished prefix); undefined before any. */
  private committable: bigint | undefined;
  private last: bigint | undefined;
  /** Where the commit may go once nothing is open (past offsets that held no record). */
  private skipTo: bigint | undefined;

  /** A record read from the partition, to be handled. Offsets must come in ascending order. */
  begin(offset: bigint, at = Date.now()): void {
    if (this.last !== undefined && offset <= this.last)
      throw new Error(`offset ${offset} read after ${this.last}: offsets must ascend`);
    this.last = offset;
    this.open.push(offset);
    this.openedAt.push(at);
  }

  /**
   * Offsets below `next` that were never begun hold nothing to handle (aborted records, transaction
   * markers): once every record below them is finished, the commit may pass them.
   */
  advanceTo(next: bigint): void {
    if (this.last !== undefined && next - 1n <= this.last) return;
    this.last = next - 1n;
    this.skipTo = next;
    this.settle();
  }

  /** The record is handled (its outputs are on their way in a transaction). */
  finish(offset: bigint): void {
    if (!this.open.includes(offset)) throw new Error(`offset ${offset} is not open`);
    this.finished.add(offset);
    while (this.open.length > 0 && this.finished.has(this.open[0]!)) {
      const o = this.open.shift()!;
      this.openedAt.shift();
      this.finished.delete(o);
      this.committable = o + 1n;
    }
    this.settle();
  }

  private settle(): void {
    if (this.open.length === 0 && this.skipTo !== undefined) {
      if (this.committable === undefined || this.skipTo > this.committable) this.committable = this.skipTo;
      this.skipTo = undefined;
    }
  }

  /** The offset to commit now (one past the finished prefix), or undefined when nothing moved. */
  take(): bigint | undefined {
    const c = this.committable;
    this.committable = undefined;
    return c;
  }

  /** The highest offset handed out so far (a record at or below it is already here). */
  get lastBegun(): bigint | undefined {
    return this.last;
  }

  /** Records handed out and not finished. */
  get inFlight(): number {
    return this.open.length;
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
