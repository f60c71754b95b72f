// What a benchmark run turns into: rates over the window that matters and latency percentiles,
// then each of the brief's targets with the value reached and whether it was met. Pure, tested.
import { type Percentiles, percentiles } from '@booking/compare';

/** One booking as the lifecycle topic told it: acceptance and the terminal transition, epoch ms. */
export interface Trace {
  /** When the bench produced the request. */
  sentAt?: number;
  /**
   * When the request was due by the schedule (start + i / rate): a request sent late because the
   * load generator fell behind still counts from when it should have gone (no coordinated omission).
   */
  scheduledAt?: number;
  /** When the bench's read_committed consumer saw the terminal transition. */
  seenAt?: number;
  acceptedAt?: number;
  /** The first DISPATCHING transition (provider-dispatch took it). */
  dispatchingAt?: number;
  /** `at`: when the handler decided it; `writtenAt`: the record's producer timestamp (its transaction began). */
  terminal?: { state: string; at: number; writtenAt?: number };
}

/** Per kind of request (the mix): how many, how they ended, open-loop latency to the final state. */
export interface ScenarioResult {
  requests: number;
  by_terminal_state: Record<string, number>;
  unfinished: number;
  /** From the scheduled send time to the final state (whatever it is) as a read_committed reader sees it. */
  latency_scheduled_to_seen_final: Percentiles;
}

/** Traces grouped by scenario. */
export function byScenario(traces: Iterable<Trace & { scenario: string }>): Record<string, ScenarioResult> {
  const groups = new Map<string, { n: number; states: Record<string, number>; lat: number[] }>();
  for (const t of traces) {
    const g = groups.get(t.scenario) ?? { n: 0, states: {}, lat: [] };
    g.n++;
    if (t.terminal) {
      g.states[t.terminal.state] = (g.states[t.terminal.state] ?? 0) + 1;
      if (t.scheduledAt !== undefined && t.seenAt !== undefined) g.lat.push(t.seenAt - t.scheduledAt);
    }
    groups.set(t.scenario, g);
  }
  return Object.fromEntries(
    [...groups].map(([name, g]) => [
      name,
      {
        requests: g.n,
        by_terminal_state: g.states,
        unfinished: g.n - Object.values(g.states).reduce((a, b) => a + b, 0),
        latency_scheduled_to_seen_final: percentiles(g.lat),
      },
    ]),
  );
}

export const TERMINAL = new Set(['CONFIRMED', 'REJECTED', 'FAILED', 'COMPENSATED']);

export interface PipelineResult {
  target_rate_per_s: number;
  duration_s: number;
  produced: number;
  /** Produced per second over the produce window (what the load generator managed). */
  offered_per_s: number;
  accepted: number;
  confirmed: number;
  by_terminal_state: Record<string, number>;
  /** Produced but not terminal when the drain bound ran out. */
  unfinished: number;
  /** CONFIRMED per second from the first acceptance to the last confirmation. */
  confirmed_per_s: number | null;
  latency_accepted_to_confirmed: Percentiles;
  /**
   * Open loop: from each request's scheduled send time to CONFIRMED as a read_committed consumer sees
   * it. What a client of the pipeline waits; the figure the targets are read against.
   */
  latency_scheduled_to_seen_confirmed: Percentiles;
  /** Where the time goes, for CONFIRMED bookings: each stage's percentiles. */
  stages: {
    /** The load generator's own delay: due by the schedule → handed to its producer. */
    scheduled_to_produced: Percentiles;
    produced_to_accepted: Percentiles;
    accepted_to_dispatching: Percentiles;
    dispatching_to_confirmed: Percentiles;
    /** Decided → stamped by the producer: waiting for the partition's transaction in flight. */
    confirmed_to_written: Percentiles;
    /** Stamped → seen by a read_committed reader: the transaction's commit, its markers, the fetch. */
    written_to_seen: Percentiles;
  };
}

export function pipelineResult(
  o: { targetRate: number; durationS: number; produced: number; produceMs: number },
  traces: Iterable<Trace>,
): PipelineResult {
  const byState: Record<string, number> = {};
  const latencies: number[] = [];
  const openLoop: number[] = [];
  const stages = {
    sender: [] as number[],
    intake: [] as number[],
    queue: [] as number[],
    provider: [] as number[],
    batcher: [] as number[],
    commit: [] as number[],
  };
  let accepted = 0;
  let first = Number.POSITIVE_INFINITY;
  let lastConfirmed = Number.NEGATIVE_INFINITY;
  let terminal = 0;
  for (const t of traces) {
    if (t.acceptedAt !== undefined) {
      accepted++;
      first = Math.min(first, t.acceptedAt);
    }
    if (!t.terminal) continue;
    terminal++;
    byState[t.terminal.state] = (byState[t.terminal.state] ?? 0) + 1;
    if (t.terminal.state === 'CONFIRMED') {
      lastConfirmed = Math.max(lastConfirmed, t.terminal.at);
      if (t.acceptedAt !== undefined) latencies.push(t.terminal.at - t.acceptedAt);
      if (t.scheduledAt !== undefined && t.seenAt !== undefined) openLoop.push(t.seenAt - t.scheduledAt);
      if (t.sentAt !== undefined && t.scheduledAt !== undefined) stages.sender.push(t.sentAt - t.scheduledAt);
      if (t.sentAt !== undefined && t.acceptedAt !== undefined) stages.intake.push(t.acceptedAt - t.sentAt);
      if (t.acceptedAt !== undefined && t.dispatchingAt !== undefined)
        stages.queue.push(t.dispatchingAt - t.acceptedAt);
      if (t.dispatchingAt !== undefined) stages.provider.push(t.terminal.at - t.dispatchingAt);
      const written = t.terminal.writtenAt;
      if (written !== undefined) {
        stages.batcher.push(written - t.terminal.at);
        if (t.seenAt !== undefined) stages.commit.push(t.seenAt - written);
      }
    }
  }
  const confirmed = byState.CONFIRMED ?? 0;
  const span = lastConfirmed - first;
  return {
    target_rate_per_s: o.targetRate,
    duration_s: o.durationS,
    produced: o.produced,
    offered_per_s: round(o.produced / (o.produceMs / 1000)),
    accepted,
    confirmed,
    by_terminal_state: byState,
    unfinished: o.produced - terminal,
    confirmed_per_s: confirmed > 0 && span > 0 ? round(confirmed / (span / 1000)) : null,
    latency_accepted_to_confirmed: percentiles(latencies),
    latency_scheduled_to_seen_confirmed: percentiles(openLoop),
    stages: {
      scheduled_to_produced: percentiles(stages.sender),
      produced_to_accepted: percentiles(stages.intake),
      accepted_to_dispatching: percentiles(stages.queue),
      dispatching_to_confirmed: percentiles(stages.provider),
      confirmed_to_written: percentiles(stages.batcher),
      written_to_seen: percentiles(stages.commit),
    },
  };
}

export interface RawResult {
  /** plain kafkajs, or the pipeline's producer settings (idempotent, transactional, headers, read_committed). */
  mode?: 'plain' | 'pipeline-settings' | 'rdkafka-plain' | 'rdkafka-chain';
  records: number;
  bytes_per_record: number;
  partitions: number;
  produce_per_s: number;
  /** From the first send to the last record consumed. */
  produce_consume_per_s: number;
}

/** A raw limit's figures from its timings: records/s produced (when measured) and produced → consumed. */
export function rawResult(
  mode: NonNullable<RawResult['mode']>,
  shape: { records: number; bytes: number; partitions: number },
  t: { start: number; produced?: number; consumed: number; lastAt: number },
): RawResult {
  return {
    mode,
    records: shape.records,
    bytes_per_record: shape.bytes,
    partitions: shape.partitions,
    produce_per_s: t.produced === undefined ? 0 : Math.round(shape.records / ((t.produced - t.start) / 1000)),
    produce_consume_per_s: Math.round(t.consumed / ((t.lastAt - t.start) / 1000)),
  };
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
