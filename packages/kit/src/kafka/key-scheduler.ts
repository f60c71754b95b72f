// Runs work per key in order and across keys side by side, at most `limit` at a time: one slow
// appointment holds only its own later records, never another appointment's (issue 13: one 3 s
// provider answer held every partition of its consumer). A task may name when it becomes due (a
// retry or poll record's `x-not-before`): until then its key sleeps on a timer without taking a
// slot, so a record waiting for its time holds neither the partition nor the records of other keys
// behind it (a 10 s duplicate check on the poll topic held every pending poll behind it).
type Job = () => Promise<void>;
interface Entry {
  job: Job;
  dueAt: number;
}

export class KeyScheduler {
  private running = 0;
  /** Per key, the jobs not started yet, in order. */
  private readonly queues = new Map<string, Entry[]>();
  /** Keys whose next job can start when a slot is free, oldest first. */
  private readonly ready: string[] = [];
  private readonly active = new Set<string>();
  /** Keys whose next job is not due yet. */
  private readonly sleeping = new Map<string, NodeJS.Timeout>();
  private idleWaiters: (() => void)[] = [];
  private closed = false;

  constructor(private readonly limit: number) {
    if (!(limit >= 1)) throw new Error('limit must be at least 1');
  }

  /**
   * Runs `task` after every earlier task of `key`, not before `dueAt` (epoch ms), when a slot is
   * free; settles with its result.
   */
  run<T>(key: string, task: () => Promise<T>, dueAt = 0): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: Entry = { job: () => task().then(resolve, reject), dueAt };
      const queue = this.queues.get(key);
      if (queue) queue.push(entry);
      else {
        this.queues.set(key, [entry]);
        if (!this.active.has(key)) this.arm(key);
      }
      this.pump();
    });
  }

  /** Tasks queued, sleeping or running. */
  get pending(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n + this.active.size;
  }

  /** Resolves once nothing is queued, sleeping or running. */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Drops every job not started (sleeping or waiting for a slot; their promises never settle):
   * a consumer stopping or started again. What runs finishes; `idle()` then resolves.
   */
  close(): void {
    this.closed = true;
    for (const t of this.sleeping.values()) clearTimeout(t);
    this.sleeping.clear();
    this.queues.clear();
    this.ready.length = 0;
    this.notifyIdle();
  }

  private notifyIdle(): void {
    if (this.pending !== 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  /** The key's next job is the one to run: ready now, or asleep until it is due. */
  private arm(key: string): void {
    const head = this.queues.get(key)?.[0];
    if (!head || this.closed) return;
    const wait = head.dueAt - Date.now();
    if (wait <= 0) {
      this.ready.push(key);
      return;
    }
    const timer = setTimeout(() => {
      this.sleeping.delete(key);
      this.ready.push(key);
      this.pump();
    }, wait);
    timer.unref();
    this.sleeping.set(key, timer);
  }

  private pump(): void {
    while (!this.closed && this.running < this.limit && this.ready.length > 0) {
      const key = this.ready.shift()!;
      const queue = this.queues.get(key)!;
      const { job } = queue.shift()!;
      if (queue.length === 0) this.queues.delete(key);
      this.active.add(key);
      this.running++;
      void job().finally(() => {
        this.running--;
        this.active.delete(key);
        if (this.queues.has(key)) this.arm(key);
        this.pump();
        this.notifyIdle();
      });
    }
  }
}
