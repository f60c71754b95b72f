// Polls every group's offsets, keeps a window of samples per partition for the status rules and a
// few minutes of history for the page, and keeps the Prometheus series in step (a partition that
// is gone loses its series).
import type { Admin } from 'kafkajs';
import type { LagMetrics } from './metrics.js';
import { listGroups, type PartitionReading, readGroup, unknownTopic } from './offsets.js';
import { offsetAtTimeVia, recordTimeFinder } from './record-time.js';
import { partitionStatus, type Sample, STATUSES, type Status, worst } from './status.js';

export interface PartitionView extends PartitionReading {
  /** Age of the oldest unconsumed record, seconds; 0 within the allowance; null without a commit. */
  lagSeconds: number | null;
  status: Status;
}

export interface GroupView {
  group: string;
  status: Status;
  sumLag: number;
  maxLag: number;
  maxLagSeconds: number;
  partitions: PartitionView[];
}

export interface MonitorOptions {
  admin: Admin;
  metrics: LagMetrics;
  groupFilter: RegExp;
  window: number;
  allowedLag: number;
  /** No offset movement for this long with lag: STOP. */
  stopAfterMs: number;
  historyMs: number;
  now?: () => number;
  /** Injected in tests; default: ListOffsets by time through `admin`. */
  recordTime?: (topic: string, partition: number, offset: number) => Promise<number | null>;
  /**
   * A new admin client in place of `old` (which the callee closes). kafkajs asks for the metadata of
   * every topic a client ever read, so once one is deleted every metadata refresh of that client
   * fails with UNKNOWN_TOPIC_OR_PARTITION, and the monitor stopped polling for good (2026-12-02: 448
   * failed polls in 15 minutes, every series frozen at its last value). A new client forgets them.
   */
  renewAdmin?: (old: Admin) => Promise<Admin>;
  /** A group whose offsets could not be read this round (it keeps its last reading). */
  onGroupError?: (group: string, err: unknown) => void;
}

const keyOf = (r: { group: string; topic: string; partition: number }) =>
  `${r.group}\u0000${r.topic}\u0000${r.partition}`;

export class LagMonitor {
  private readonly windows = new Map<string, Sample[]>();
  private readonly committedAt = new Map<string, { offset: number; at: number }>();
  private readonly series = new Map<string, { group: string; topic: string; partition: string }>();
  private readonly groupsSeen = new Set<string>();
  private readonly lastReadings = new Map<string, PartitionReading[]>();
  private readonly topicSeries = new Set<string>();
  private readonly history = new Map<string, [number, number][]>();
  private readonly now: () => number;
  private readonly recordTime: NonNullable<MonitorOptions['recordTime']>;
  private last: { at: number; groups: GroupView[] } = { at: 0, groups: [] };

  private admin: Admin;

  constructor(private readonly o: MonitorOptions) {
    this.admin = o.admin;
    this.now = o.now ?? Date.now;
    this.recordTime =
      o.recordTime ??
      recordTimeFinder(
        offsetAtTimeVia(() => this.admin),
        this.now,
      );
  }

  get latest() {
    return this.last;
  }

  /** The history of summed lag per group and topic: { "group topic": [[epochMs, lag], …] }. */
  historyView(): Record<string, [number, number][]> {
    return Object.fromEntries([...this.history].map(([k, v]) => [k.replace('\u0000', ' '), v]));
  }

  /** A new admin client in place of one that stopped answering (a poll past its bound). */
  async renew(): Promise<void> {
    if (this.o.renewAdmin) this.admin = await this.o.renewAdmin(this.admin);
  }

  async poll(): Promise<GroupView[]> {
    try {
      return await this.pollOnce();
    } catch (err) {
      if (!this.o.renewAdmin || !unknownTopic(err)) throw err;
      this.admin = await this.o.renewAdmin(this.admin);
      return this.pollOnce();
    }
  }

  private async pollOnce(): Promise<GroupView[]> {
    const groups = await listGroups(this.admin, this.o.groupFilter);
    // One group that cannot be read keeps its last reading (and its series) for this round; it
    // must not blind the monitor to every other group.
    const readings = (
      await Promise.all(
        groups.map((g) =>
          readGroup(this.admin, g).then(
            (r) => {
              this.lastReadings.set(g, r);
              return r;
            },
            (err: unknown) => {
              this.o.metrics.readFailures.inc({ group: g });
              this.o.onGroupError?.(g, err);
              return this.lastReadings.get(g) ?? [];
            },
          ),
        ),
      )
    ).flat();
    for (const g of [...this.lastReadings.keys()]) if (!groups.includes(g)) this.lastReadings.delete(g);
    const now = this.now();
    const seen = new Set<string>();
    const views: PartitionView[] = [];
    for (const r of readings) {
      const key = keyOf(r);
      seen.add(key);
      if (r.committed === null || r.lag === null) {
        views.push({ ...r, lagSeconds: null, status: 'OK' });
        continue;
      }
      const prev = this.committedAt.get(key);
      const committedAt = prev && prev.offset === r.committed ? prev.at : now;
      this.committedAt.set(key, { offset: r.committed, at: committedAt });
      const lag = r.lag <= this.o.allowedLag ? 0 : r.lag;
      const window = [
        ...(this.windows.get(key) ?? []),
        { at: now, committed: r.committed, lag, committedAt },
      ].slice(-this.o.window);
      this.windows.set(key, window);
      let lagSeconds: number | null = 0;
      if (lag > 0) {
        const t = await this.recordTime(r.topic, r.partition, r.committed);
        lagSeconds = t === null ? null : Math.max(0, (now - t) / 1000);
      }
      views.push({
        ...r,
        lagSeconds,
        status: partitionStatus(window, this.o.window, now, this.o.stopAfterMs),
      });
    }
    for (const key of [...this.windows.keys()]) {
      if (!seen.has(key)) {
        this.windows.delete(key);
        this.committedAt.delete(key);
      }
    }
    const out = groups.map((group) => {
      const partitions = views.filter((v) => v.group === group);
      const lags = partitions.map((p) => p.lag ?? 0);
      return {
        group,
        status: worst(partitions.map((p) => p.status)),
        sumLag: lags.reduce((a, b) => a + b, 0),
        maxLag: Math.max(0, ...lags),
        maxLagSeconds: Math.max(0, ...partitions.map((p) => p.lagSeconds ?? 0)),
        partitions,
      };
    });
    this.export(out, views);
    this.remember(out, now);
    this.last = { at: now, groups: out };
    return out;
  }

  private export(groups: GroupView[], views: PartitionView[]) {
    const m = this.o.metrics;
    const current = new Map<string, { group: string; topic: string; partition: string }>();
    for (const v of views) {
      const labels = { group: v.group, topic: v.topic, partition: String(v.partition) };
      if (v.lag === null) continue; // no commit: no value, not the end offset
      current.set(keyOf(v), labels);
      m.lag.set(labels, v.lag);
      if (v.lagSeconds !== null) m.lagSeconds.set(labels, v.lagSeconds);
      else m.lagSeconds.remove(labels);
    }
    for (const [key, labels] of this.series) {
      if (!current.has(key)) {
        m.lag.remove(labels);
        m.lagSeconds.remove(labels);
      }
    }
    this.series.clear();
    for (const [k, v] of current) this.series.set(k, v);

    const topics = new Set<string>();
    for (const g of groups) {
      m.sumLag.set({ group: g.group }, g.sumLag);
      m.maxLag.set({ group: g.group }, g.maxLag);
      m.maxLagSeconds.set({ group: g.group }, g.maxLagSeconds);
      m.status.set({ group: g.group }, STATUSES.indexOf(g.status));
      for (const t of new Set(g.partitions.map((p) => p.topic))) {
        const sum = g.partitions.filter((p) => p.topic === t).reduce((a, p) => a + (p.lag ?? 0), 0);
        m.topicSumLag.set({ group: g.group, topic: t }, sum);
        topics.add(`${g.group}\u0000${t}`);
      }
    }
    for (const gone of [...this.groupsSeen].filter((g) => !groups.some((x) => x.group === g))) {
      for (const gauge of [m.sumLag, m.maxLag, m.maxLagSeconds, m.status]) gauge.remove({ group: gone });
      this.groupsSeen.delete(gone);
    }
    for (const g of groups) this.groupsSeen.add(g.group);
    for (const t of [...this.topicSeries].filter((k) => !topics.has(k))) {
      const [group, topic] = t.split('\u0000') as [string, string];
      m.topicSumLag.remove({ group, topic });
      this.topicSeries.delete(t);
    }
    for (const t of topics) this.topicSeries.add(t);
  }

  private remember(groups: GroupView[], now: number) {
    const from = now - this.o.historyMs;
    const keys = new Set<string>();
    for (const g of groups) {
      for (const t of new Set(g.partitions.map((p) => p.topic))) {
        const key = `${g.group}\u0000${t}`;
        keys.add(key);
        const sum = g.partitions.filter((p) => p.topic === t).reduce((a, p) => a + (p.lag ?? 0), 0);
        const points = [...(this.history.get(key) ?? []), [now, sum] as [number, number]].filter(
          ([at]) => at >= from,
        );
        this.history.set(key, points);
      }
    }
    for (const k of [...this.history.keys()]) if (!keys.has(k)) this.history.delete(k);
  }
}
