// The work of one assigned partition when its records are handled out of order (keys side by side):
// which records are open, the outputs of those finished, and what is committed. The transaction
// batcher of the partition: one send in flight; outputs of records that finish meanwhile wait in a
// buffer and go out together in the next send, with the partition's position and the finished
// offsets above it (commit metadata) as they stand then, so a record's outputs and its "finished"
// mark always travel in the same transaction. A send that fails breaks the partition: the buffer is
// dropped and nothing is sent again (a later transaction would commit a position past the lost
// outputs); `onBroken` says so once, for the owner to start the partition again from its committed
// position. `abandon()` (revoked, or started again) drops whatever is still running.

import { encodeFinished, OffsetTracker } from './offset-tracker.js';
import type { Encoded } from './transactional-sender.js';

/** A position to commit: the next offset to read, and the finished offsets above it. */
export interface Commit {
  offset: bigint;
  metadata: string | null;
}

export interface PartitionWorkOptions {
  /** Commits `records` and, if given, the position, in one transaction, in call order. */
  send(records: Encoded[], commit: Commit | undefined): Promise<void>;
  /** Called once, after the first failed send. */
  onBroken(err: unknown): void;
  /** Offsets finished by the partition's previous owner (from the committed metadata): skipped. */
  finishedBefore?: ReadonlySet<bigint>;
  /**
   * The committed position when this work began: a record below it is done (its outcome committed
   * with that offset). kafkajs may still hand it over when it resolved its fetch position before
   * the last commit landed.
   */
  committedPosition?: bigint;
  /** Finished offsets left out of a commit's metadata (over its bound): handled again by a next owner. */
  onMetadataDropped?(count: number): void;
}

export class PartitionWork {
  private readonly tracker = new OffsetTracker();
  private broken = false;
  private abandoned = false;
  private buffer: Encoded[] = [];
  private dirty = false;
  private inFlightSend: Promise<void> | undefined;

  constructor(private readonly opts: PartitionWorkOptions) {
    // Below the committed position everything is done: `has` answers true for it, and the first
    // commit can only be at or past that position, never behind it.
    if (opts.committedPosition !== undefined) this.tracker.advanceTo(opts.committedPosition);
  }

  /** A record read, about to be handled (`dueAt`: not before then; it counts as open from then). */
  begin(offset: string, dueAt = Date.now()): void {
    this.tracker.begin(BigInt(offset), Math.max(Date.now(), dueAt));
  }

  /** True for a record the previous owner finished (its outputs are committed): not to run again. */
  finishedBefore(offset: string): boolean {
    return this.opts.finishedBefore?.has(BigInt(offset)) ?? false;
  }

  /** The highest offset handed to this work, or undefined before the first. */
  get lastBegun(): bigint | undefined {
    return this.tracker.lastBegun;
  }

  /** True for a record this work has already had (read again after a rejoin): it must not run twice. */
  has(offset: string): boolean {
    const last = this.tracker.lastBegun;
    return last !== undefined && BigInt(offset) <= last;
  }

  /** Records read and not finished: the owner pauses the partition above a bound. */
  get inFlight(): number {
    return this.tracker.inFlight;
  }

  /** The lowest open record and since when it has been open, or undefined when none is. */
  get oldestOpen(): { offset: bigint; since: number } | undefined {
    const offset = this.tracker.lowestOpen;
    const since = this.tracker.lowestOpenSince;
    return offset === undefined || since === undefined ? undefined : { offset, since };
  }

  /** False once broken or abandoned: results of records still running are dropped. */
  get live(): boolean {
    return !this.broken && !this.abandoned;
  }

  /** A record handled: its outputs and its finished mark join the next send. */
  finish(offset: string, out: Encoded[]): void {
    if (!this.live) return;
    this.tracker.finish(BigInt(offset));
    this.buffer.push(...out);
    this.dirty = true;
    this.flush();
  }

  /** Offsets below `next` not begun held no record (aborted, markers): the commit may pass them. */
  advanceTo(next: string): void {
    if (!this.live) return;
    const before = this.tracker.position;
    this.tracker.advanceTo(BigInt(next));
    if (this.tracker.position !== before) {
      this.dirty = true;
      this.flush();
    }
  }

  /** Drops what is still running and waiting (the partition was revoked, or is started again). */
  abandon(): void {
    this.abandoned = true;
    this.buffer = [];
    this.dirty = false;
  }

  /** Resolves when nothing is being sent and nothing waits to be (or the partition is no longer live). */
  async settled(): Promise<void> {
    while (this.inFlightSend) await this.inFlightSend;
  }

  private commit(): Commit | undefined {
    const offset = this.tracker.position;
    if (offset === undefined) return undefined;
    const { metadata, dropped } = encodeFinished(offset, this.tracker.finishedAbove);
    if (dropped > 0) this.opts.onMetadataDropped?.(dropped);
    return { offset, metadata };
  }

  private flush(): void {
    if (this.inFlightSend || !this.live || !this.dirty) return;
    const records = this.buffer;
    this.buffer = [];
    this.dirty = false;
    this.inFlightSend = this.opts.send(records, this.commit()).then(
      () => {
        this.inFlightSend = undefined;
        this.flush();
      },
      (err: unknown) => {
        this.inFlightSend = undefined;
        if (!this.live) return;
        this.broken = true;
        this.buffer = [];
        this.dirty = false;
        this.opts.onBroken(err);
      },
    );
  }
}
