// Back-pressure: when a consumer has too many records open, a partition stops being read at a given
// offset and is read again from there once enough of them finish. Heartbeats go on meanwhile, so
// the group keeps the partition. One of these per consumer instance: a consumer started again gets
// a fresh one. (Records not due yet no longer pause their partition: they wait in their key's place
// in the KeyScheduler.)

/** The part of a kafkajs consumer this needs (so a test can watch the calls). */
export interface PausableConsumer {
  pause(topics: { topic: string; partitions: number[] }[]): void;
  resume(topics: { topic: string; partitions: number[] }[]): void;
  seek(target: { topic: string; partition: number; offset: string }): void;
}

export class PartitionPauses {
  private readonly held = new Set<string>();
  private closed = false;

  constructor(private readonly consumer: PausableConsumer) {}

  /** Stops reading at `offset` until `release`. */
  hold(topic: string, partition: number, offset: string): void {
    if (this.closed) return;
    this.consumer.pause([{ topic, partitions: [partition] }]);
    this.consumer.seek({ topic, partition, offset });
    this.held.add(key(topic, partition));
  }

  isHeld(topic: string, partition: number): boolean {
    return this.held.has(key(topic, partition));
  }

  /** Reads a held partition again (no-op when it is not held). */
  release(topic: string, partition: number): void {
    if (this.closed || !this.held.delete(key(topic, partition))) return;
    this.consumer.resume([{ topic, partitions: [partition] }]);
  }

  /** Reads every held partition again. */
  releaseAll(): void {
    if (this.closed || this.held.size === 0) return;
    const held = [...this.held];
    this.held.clear();
    for (const id of held) {
      const at = id.lastIndexOf('/');
      this.consumer.resume([{ topic: id.slice(0, at), partitions: [Number(id.slice(at + 1))] }]);
    }
  }

  /** Forgets a partition (revoked). */
  forget(topic: string, partition: number): void {
    this.held.delete(key(topic, partition));
  }

  /** Nothing is resumed after this. */
  close(): void {
    this.closed = true;
    this.held.clear();
  }
}

const key = (topic: string, partition: number) => `${topic}/${partition}`;
