// Back-pressure: when a consumer has too many records open, the rest of a fetched batch waits here
// while its partition is paused, and is handed out in offset order as records finish; the partition
// is read again once its backlog is empty. Heartbeats go on meanwhile, so the group keeps the
// partition. The records are already fetched and decoded, so holding them costs their memory (at
// most what one fetch returned for the partition). The first version sought back to the first
// record not handed out: every release fetched and decoded the whole batch again to take a few
// dozen records from it (audit handled about 100 records/s on a third of a core, 2026-12-02).
// One of these per consumer instance: a consumer started again gets a fresh one.

/** The part of a kafkajs consumer this needs (so a test can watch the calls). */
export interface PausableConsumer {
  pause(topics: { topic: string; partitions: number[] }[]): void;
  resume(topics: { topic: string; partitions: number[] }[]): void;
}

/** Records of one partition fetched and not handed out yet, in offset order. */
export interface Backlog<M> {
  topic: string;
  partition: number;
  messages: M[];
  /** One past the last offset of the batches they came from (aborted records and markers after them). */
  end: string | undefined;
}

export class PartitionPauses<M extends { offset: string }> {
  private readonly held = new Map<string, Backlog<M>>();
  private closed = false;

  constructor(private readonly consumer: PausableConsumer) {}

  /** Pauses the partition; `rest` waits to be handed out (appended after what already waits). */
  hold(topic: string, partition: number, rest: M[], end: string | undefined): void {
    if (this.closed) return;
    const id = key(topic, partition);
    const had = this.held.get(id);
    if (had) {
      const last = had.messages.length > 0 ? BigInt(had.messages[had.messages.length - 1]!.offset) : -1n;
      had.messages.push(...rest.filter((m) => BigInt(m.offset) > last));
      if (end !== undefined && (had.end === undefined || BigInt(end) > BigInt(had.end))) had.end = end;
      return;
    }
    this.consumer.pause([{ topic, partitions: [partition] }]);
    this.held.set(id, { topic, partition, messages: [...rest], end });
  }

  /** True while any partition is held (checked at every finished record before anything else). */
  get holding(): boolean {
    return this.held.size > 0;
  }

  isHeld(topic: string, partition: number): boolean {
    return this.held.has(key(topic, partition));
  }

  /** What waits, partitions in the order they were held (the longest waiting first). */
  backlogs(): Backlog<M>[] {
    return [...this.held.values()];
  }

  /** The partition's backlog is handed out: it is read again (no-op when it is not held). */
  release(topic: string, partition: number): void {
    if (this.closed || !this.held.delete(key(topic, partition))) return;
    this.consumer.resume([{ topic, partitions: [partition] }]);
  }

  /**
   * The partition was revoked: its backlog is dropped (the next owner reads it from the committed
   * offset) and it is resumed, so that it is not still paused if it comes back to this member.
   */
  forget(topic: string, partition: number): void {
    if (!this.held.delete(key(topic, partition)) || this.closed) return;
    this.consumer.resume([{ topic, partitions: [partition] }]);
  }

  /** Nothing is paused, resumed or kept after this. */
  close(): void {
    this.closed = true;
    this.held.clear();
  }
}

const key = (topic: string, partition: number) => `${topic}/${partition}`;
