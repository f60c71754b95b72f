// The consumer's lifecycle as one explicit state (issue 28: the new runtime's first named part; the
// kafkajs runtime decodes five flags in `health()`). Pure: events in, the next state out, and what
// /healthz says of a state. An epoch number counts every new consumer incarnation, so work begun
// under an older epoch is recognised as stale by comparing two numbers, not object identities.

export type LifecycleState =
  | { kind: 'starting'; epoch: number }
  | { kind: 'joined'; epoch: number; memberId: string; generation: number; since: number }
  | { kind: 'rebalancing'; epoch: number; memberId: string; since: number }
  | { kind: 'restarting'; epoch: number; cause: RestartCause; attempt: number; since: number }
  | { kind: 'stopped'; epoch: number };

export type RestartCause = 'crash' | 'stuck' | 'fatal' | 'fenced';

export type LifecycleEvent =
  | { kind: 'joined'; memberId: string; generation: number; at: number }
  | { kind: 'rebalance'; at: number }
  | { kind: 'failed'; cause: RestartCause; at: number }
  | { kind: 'restarted'; at: number }
  | { kind: 'stop' };

/** The next state; an event that makes no sense in a state leaves it as it is. */
export function next(s: LifecycleState, e: LifecycleEvent): LifecycleState {
  if (s.kind === 'stopped') return s;
  switch (e.kind) {
    case 'stop':
      return { kind: 'stopped', epoch: s.epoch };
    case 'joined':
      if (s.kind === 'restarting') return s; // a join of the consumer being replaced: not ours
      return { kind: 'joined', epoch: s.epoch, memberId: e.memberId, generation: e.generation, since: e.at };
    case 'rebalance':
      return s.kind === 'joined'
        ? { kind: 'rebalancing', epoch: s.epoch, memberId: s.memberId, since: e.at }
        : s;
    case 'failed':
      return {
        kind: 'restarting',
        epoch: s.epoch,
        cause: e.cause,
        attempt: s.kind === 'restarting' ? s.attempt + 1 : 1,
        since: s.kind === 'restarting' ? s.since : e.at,
      };
    case 'restarted':
      // A new consumer: a new epoch; what the old one began is stale from now on.
      return s.kind === 'restarting' ? { kind: 'starting', epoch: s.epoch + 1 } : s;
  }
}

/** Whether work begun under `epoch` may still finish and commit in state `s`. */
export const current = (s: LifecycleState, epoch: number): boolean =>
  (s.kind === 'joined' || s.kind === 'rebalancing') && s.epoch === epoch;

/** What /healthz says: healthy only when joined; otherwise why not. */
export function healthOf(s: LifecycleState, now: number): { healthy: boolean; reason?: string } {
  switch (s.kind) {
    case 'joined':
      return { healthy: true };
    case 'rebalancing':
      return now - s.since > 60_000
        ? { healthy: false, reason: `rebalancing for ${now - s.since} ms` }
        : { healthy: true };
    case 'starting':
      return { healthy: false, reason: 'not joined yet' };
    case 'restarting':
      return { healthy: false, reason: `restarting after ${s.cause} (attempt ${s.attempt})` };
    case 'stopped':
      return { healthy: false, reason: 'stopped' };
  }
}

/** Backoff before the n-th restart in a row: the kafkajs runtime's rule, kept. */
export { restartDelayMs } from '../kafka/consumer-health.js';
