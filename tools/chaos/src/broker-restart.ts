// Issue 20's reproduction and regression check: the broker SIGKILLed while bookings flow and
// started again `downMs` later, as one fault round (round.ts).
import type { BrokerControl } from './broker.js';
import { brokerKill } from './faults.js';
import { DEFAULT_ROUND, faultRound, type PipelineTarget, type RoundOptions } from './round.js';

export type BrokerRoundOptions = RoundOptions & { downMs: number };
export const DEFAULT_BROKER_ROUND: BrokerRoundOptions = { ...DEFAULT_ROUND, downMs: 10_000 };

export function brokerRestartRound(
  t: PipelineTarget & { broker: BrokerControl },
  round: number,
  o: BrokerRoundOptions = DEFAULT_BROKER_ROUND,
) {
  return faultRound(t, brokerKill(t.broker, o.downMs), round, o);
}
