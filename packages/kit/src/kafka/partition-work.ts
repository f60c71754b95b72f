// The work of one assigned partition when its records are handled out of order (keys side by side):
// which records are open, the outputs of those finished, and what may be committed. The transaction
// batcher of the partition: one send in flight; outputs of records that finish meanwhile wait in a
// buffer and go out together in the next send, with the committable offset as it stands then (a
// record's outputs are always in the same or an earlier send than any offset past it). A send that
// fails breaks the partition: the buffer is dropped and nothing is sent again (a later transaction
// would commit an offset past the lost outputs); `onBroken` says so once, for the owner to start the
// partition again from its committed offset. `abandon()` (revoked, or started again) drops whatever
// is still running.

import { OffsetTracker } from './offset-tracker.js';
import type { Encoded } from './transactional-sender.js';

export interface PartitionWorkOptions {
  /** Commits `records` and, if given, the offset to resume from, in one transaction, in call order. */
  send(records: Encoded[], commitOffset: bigint | undefined): Promise<void>;
  /** Called once, after the first failed send. */
  onBroken(err: unknown): void;
}

export class PartitionWork {
  private readonly tracker = new OffsetTracker();
  private broken = false;
  private abandoned = false;
  private buffer: Encoded[] = [];
  private commit: bigint | undefined;
  private inFlightSend: Promise<void> | undefined;

  constructor(private readonly opts: PartitionWorkOptions) {}

  /** A record read, about to be handled. */
  begin(offset: string): void {
    this.tracker.begin(BigInt(offset));
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

  /** A record handled: its outputs join the next send, with the offset if the finished prefix moved. */
  finish(offset: string, out: Encoded[]): void {
    if (!this.live) return;
    this.tracker.finish(BigInt(offset));
    this.buffer.push(...out);
    this.commit = this.tracker.take() ?? this.commit;
    this.flush();
  }

  /** Offsets below `next` not begun held no record (aborted, markers): the commit may pass them. */
  advanceTo(next: string): void {
    if (!this.live) return;
    this.tracker.advanceTo(BigInt(next));
    this.commit = this.tracker.take() ?? this.commit;
    this.flush();
  }

  /** Drops what is still running and waiting (the partition was revoked, or is started again). */
  abandon(): void {
    this.abandoned = true;
    this.buffer = [];
    this.commit = undefined;
  }

  /** Resolves when nothing is being sent and nothing waits to be (or the partition is no longer live). */
  async settled(): Promise<void> {
    while (this.inFlightSend) await this.inFlightSend;
  }

  private flush(): void {
    if (this.inFlightSend || !this.live) return;
    if (this.buffer.length === 0 && this.commit === undefined) return;
    const records = this.buffer;
    const commit = this.commit;
    this.buffer = [];
    this.commit = undefined;
    this.inFlightSend = this.opts.send(records, commit).then(
      () => {
        this.inFlightSend = undefined;
        this.flush();
      },
      (err: unknown) => {
        this.inFlightSend = undefined;
        if (!this.live) return;
        this.broken = true;
        this.buffer = [];
        this.commit = undefined;
        this.opts.onBroken(err);
      },
    );
  }
}
