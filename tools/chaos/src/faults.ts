// The fault matrix of issue 14, one fault at a time against the local stack. A fault is injected
// once the round's load is under way, held for `holdMs`, then recovered; the round then waits for
// every acknowledged booking to be terminal and checks what the pipeline and the provider hold.
import type { Kafka } from 'kafkajs';
import type { BrokerControl } from './broker.js';
import type { LocalStack } from './local-stack.js';

export interface Fault {
  name: string;
  /** One line for the report: what is done to what. */
  description: string;
  inject(): Promise<void>;
  /** How long the fault lasts before `recover`. */
  holdMs: number;
  recover(): Promise<void>;
}

/** The services a chaos run kills one by one (each restarted by `stack.sh up --all`). */
export const KILLED_SERVICES = [
  'intake',
  'provider-dispatch',
  'audit',
  'compensation',
  'reconciler',
] as const;

async function setOutage(mockUrl: string, body: object): Promise<void> {
  const res = await fetch(`${mockUrl}/__mock/outage`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(5000),
  });
  if (!res.ok) throw new Error(`POST ${mockUrl}/__mock/outage ${JSON.stringify(body)}: ${res.status}`);
}

export function serviceKill(stack: LocalStack, service: string, holdMs = 3000): Fault {
  return {
    name: `kill-${service}`,
    description: `SIGKILL of ${service}; started again ${holdMs / 1000} s later by stack.sh up --all`,
    holdMs,
    inject: () => stack.signal(service, 'SIGKILL'),
    recover: () => stack.up(true),
  };
}

/**
 * SIGSTOP of a consumer for longer than its session timeout (kafkajs: 30 s): its group gives its
 * partitions to the other instance; SIGCONT wakes it as a zombie that still believes it owns them.
 * Whatever it writes then must be fenced (the per-partition transactional id the new owner
 * registered), so no second booking and no second terminal event.
 */
export function servicePause(stack: LocalStack, service: string, holdMs = 40_000): Fault {
  return {
    name: `pause-${service}`,
    description: `SIGSTOP of ${service} for ${holdMs / 1000} s (past its 30 s session timeout), then SIGCONT`,
    holdMs,
    inject: () => stack.signal(service, 'SIGSTOP'),
    recover: () => stack.signal(service, 'SIGCONT'),
  };
}

export function brokerKill(broker: BrokerControl, holdMs = 10_000): Fault {
  return {
    name: 'kill-broker',
    description: `SIGKILL of the Kafka broker; started again ${holdMs / 1000} s later`,
    holdMs,
    inject: () => broker.kill(),
    recover: () => broker.start(),
  };
}

/**
 * The node leading most partitions of `topic`: ties go to the lowest node id. Pure, for the leader
 * kill below.
 */
export function busiestLeader(
  partitions: readonly { partitionId: number; leader: number }[],
): number | undefined {
  const count = new Map<number, number>();
  for (const p of partitions) if (p.leader >= 0) count.set(p.leader, (count.get(p.leader) ?? 0) + 1);
  let best: number | undefined;
  for (const [leader, n] of [...count].sort((a, b) => a[0] - b[0]))
    if (best === undefined || n > (count.get(best) ?? 0)) best = leader;
  return best;
}

/**
 * In a three-node stack (`stack.sh up --brokers 3`): SIGKILL of the node leading most partitions
 * of the busiest topic (the requested topic every booking passes through), back 30 s later. Its
 * partitions elect new leaders among the in-sync replicas (min.insync.replicas=2 of 3, unclean
 * election off); producers with acks=all go on with the two left.
 */
export function leaderKill(stack: LocalStack, kafka: Kafka, topic: string, holdMs = 30_000): Fault {
  return {
    name: 'kill-leader',
    description: `SIGKILL of the Kafka node leading most partitions of ${topic} (of three); started again ${holdMs / 1000} s later`,
    holdMs,
    async inject() {
      const admin = kafka.admin();
      await admin.connect();
      try {
        const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
        const leader = busiestLeader(topics[0]?.partitions ?? []);
        if (leader === undefined) throw new Error(`no leader known for ${topic}`);
        await stack.signal(`kafka-${leader}`, 'SIGKILL');
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
    },
    recover: () => stack.up(false),
  };
}

export function registryRestart(stack: LocalStack, holdMs = 2000): Fault {
  return {
    name: 'restart-registry',
    description: `SIGTERM of the schema registry; started again ${holdMs / 1000} s later`,
    holdMs,
    inject: () => stack.signal('registry', 'SIGTERM'),
    recover: () => stack.up(false),
  };
}

export function redisKill(stack: LocalStack, holdMs = 2000): Fault {
  return {
    name: 'kill-redis',
    description: `SIGKILL of Redis; started again from its append-only file ${holdMs / 1000} s later`,
    holdMs,
    inject: () => stack.signal('redis', 'SIGKILL'),
    recover: () => stack.up(false),
  };
}

export function providerDown(mockUrl: string, holdMs = 20_000): Fault {
  return {
    name: 'provider-down',
    description: `the provider answers every call 503 for ${holdMs / 1000} s`,
    holdMs,
    inject: () => setOutage(mockUrl, { mode: 'down' }),
    recover: () => setOutage(mockUrl, { mode: 'none' }),
  };
}

export function providerSlow(mockUrl: string, holdMs = 20_000, slowMs = 5000): Fault {
  return {
    name: 'provider-slow',
    description: `the provider answers every call ${slowMs / 1000} s late (work done at once) for ${holdMs / 1000} s`,
    holdMs,
    inject: () => setOutage(mockUrl, { mode: 'slow', slowMs }),
    recover: () => setOutage(mockUrl, { mode: 'none' }),
  };
}

/**
 * The matrix on the local stack, in the order a run takes it; with second instances running
 * (`stack.sh up --all --instances 2`) the second provider-dispatch is killed and paused too; on
 * three Kafka nodes (`--brokers 3`) the busiest leader is killed too.
 */
export function localMatrix(
  stack: LocalStack,
  broker: BrokerControl,
  mockUrl: string,
  cluster?: { kafka: Kafka; busiestTopic: string },
): Fault[] {
  const twoDispatchers = stack.pidOf('provider-dispatch-2') !== undefined;
  const threeNodes = stack.pidOf('kafka-3') !== undefined;
  return [
    ...KILLED_SERVICES.map((s) => serviceKill(stack, s)),
    ...(twoDispatchers
      ? [serviceKill(stack, 'provider-dispatch-2'), servicePause(stack, 'provider-dispatch-2')]
      : []),
    brokerKill(broker),
    ...(threeNodes && cluster ? [leaderKill(stack, cluster.kafka, cluster.busiestTopic)] : []),
    registryRestart(stack),
    redisKill(stack),
    providerDown(mockUrl),
    providerSlow(mockUrl),
  ];
}
