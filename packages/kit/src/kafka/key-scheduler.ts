// Runs work per key in order and across keys side by side, at most `limit` at a time: one slow
// appointment holds only its own later records, never another appointment's (issue 13: one 3 s
// provider answer held every partition of its consumer).
type Job = () => Promise<void>;

export class KeyScheduler {
  private running = 0;
  /** Per key, the jobs waiting behind the one running. */
  private readonly queues = new Map<string, Job[]>();
  /** Keys whose next job waits for a free slot, oldest first. */
  private readonly ready: string[] = [];
  private readonly active = new Set<string>();
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly limit: number) {
    if (!(limit >= 1)) throw new Error('limit must be at least 1');
  }

  /** Runs `task` after every earlier task of `key`, when a slot is free; settles with its result. */
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const job: Job = () => task().then(resolve, reject);
      const queue = this.queues.get(key);
      if (queue) queue.push(job);
      else {
        this.queues.set(key, [job]);
        if (!this.active.has(key)) this.ready.push(key);
      }
      this.pump();
    });
  }

  /** Tasks queued or running. */
  get pending(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n + this.active.size;
  }

  /** Resolves once nothing is queued or running. */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (this.running < this.limit && this.ready.length > 0) {
      const key = this.ready.shift()!;
      const queue = this.queues.get(key)!;
      const job = queue.shift()!;
      if (queue.length === 0) this.queues.delete(key);
      this.active.add(key);
      this.running++;
      void job().finally(() => {
        this.running--;
        this.active.delete(key);
        if (this.queues.has(key)) this.ready.push(key);
        this.pump();
        if (this.pending === 0) {
          const waiters = this.idleWaiters;
          this.idleWaiters = [];
          for (const w of waiters) w();
        }
      });
    }
  }
}
