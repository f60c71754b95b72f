// Partition deferral: a partition stops being read at a given offset and is read again from there
// later. Two reasons: its next record is not due yet (`x-not-before` on a retry or poll topic; read
// again at that time), or too many of its records are open (held until enough of them finish).
// Heartbeats go on meanwhile, so the group keeps the partition. One of these per consumer instance:
// a consumer started again gets a fresh one, and the old one's timers are cancelled.

/** The part of a kafkajs consumer this needs (so a test can watch the calls). */
export interface PausableConsumer {
  pause(topics: { topic: string; partitions: number[] }[]): void;
  resume(topics: { topic: string; partitions: number[] }[]): void;
  seek(target: { topic: string; partition: number; offset: string }): void;
}

export class PartitionPauses {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly until = new Map<string, number>();
  private readonly held = new Set<string>();
  private closed = false;

  constructor(private readonly consumer: PausableConsumer) {}

  /** Stops reading at `offset` and reads again from there at `untilMs`. */
  defer(topic: string, partition: number, offset: string, untilMs: number): void {
    if (this.closed) return;
    const id = key(topic, partition);
    this.stopAt(topic, partition, offset);
    this.until.set(id, untilMs);
    clearTimeout(this.timers.get(id));
    const timer = setTimeout(
      () => {
        this.timers.delete(id);
        this.until.delete(id);
        this.resume(topic, partition);
      },
      Math.max(0, untilMs - Date.now()),
    );
    this.timers.set(id, timer);
  }

  /** Stops reading at `offset` until `release`. */
  hold(topic: string, partition: number, offset: string): void {
    if (this.closed) return;
    this.stopAt(topic, partition, offset);
    this.held.add(key(topic, partition));
  }

  isHeld(topic: string, partition: number): boolean {
    return this.held.has(key(topic, partition));
  }

  /** Reads a held partition again (no-op when it is not held). */
  release(topic: string, partition: number): void {
    if (this.held.delete(key(topic, partition))) this.resume(topic, partition);
  }

  /** When a deferred partition is read again, or undefined (for the stuck rules: waiting on purpose). */
  deferredUntil(topic: string, partition: number): number | undefined {
    return this.until.get(key(topic, partition));
  }

  /** Forgets a partition (revoked): its timer is cancelled. */
  forget(topic: string, partition: number): void {
    const id = key(topic, partition);
    clearTimeout(this.timers.get(id));
    this.timers.delete(id);
    this.until.delete(id);
    this.held.delete(id);
  }

  /** Cancels every timer; nothing is resumed after this. */
  close(): void {
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.until.clear();
    this.held.clear();
  }

  private stopAt(topic: string, partition: number, offset: string): void {
    this.consumer.pause([{ topic, partitions: [partition] }]);
    this.consumer.seek({ topic, partition, offset });
  }

  private resume(topic: string, partition: number): void {
    const id = key(topic, partition);
    if (this.closed || this.held.has(id) || this.until.has(id)) return;
    this.consumer.resume([{ topic, partitions: [partition] }]);
  }
}

const key = (topic: string, partition: number) => `${topic}/${partition}`;
