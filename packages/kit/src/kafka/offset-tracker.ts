// Which offset of a partition may be committed when records finish out of order (keys handled side
// by side): everything below the lowest record not yet finished, as Confluent's Parallel Consumer
// commits. A record finished above that waits in `done` until the records below it finish; if the
// process dies first it is read and handled again (handlers are idempotent, emitted ids deterministic).
export class OffsetTracker {
  /** Offsets handed out and not finished yet, in the order they were read (ascending). */
  private readonly open: bigint[] = [];
  private readonly finished = new Set<bigint>();
  /** The next offset to commit (one past the last record of the finished prefix); undefined before any. */
  private committable: bigint | undefined;
  private last: bigint | undefined;

  /** A record read from the partition, to be handled. Offsets must come in ascending order. */
  begin(offset: bigint): void {
    if (this.last !== undefined && offset <= this.last)
      throw new Error(`offset ${offset} read after ${this.last}: offsets must ascend`);
    this.last = offset;
    this.open.push(offset);
  }

  /** The record is handled (its outputs are on their way in a transaction). */
  finish(offset: bigint): void {
    if (!this.open.includes(offset)) throw new Error(`offset ${offset} is not open`);
    this.finished.add(offset);
    while (this.open.length > 0 && this.finished.has(this.open[0]!)) {
      const o = this.open.shift()!;
      this.finished.delete(o);
      this.committable = o + 1n;
    }
  }

  /** The offset to commit now (one past the finished prefix), or undefined when nothing moved. */
  take(): bigint | undefined {
    const c = this.committable;
    this.committable = undefined;
    return c;
  }

  /** Records handed out and not finished. */
  get inFlight(): number {
    return this.open.length;
  }

  /** The lowest offset not finished (where a restart resumes), or undefined when none is open. */
  get lowestOpen(): bigint | undefined {
    return this.open[0];
  }
}
