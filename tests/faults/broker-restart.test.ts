// Issue 20's regression test on the real stack: the broker is SIGKILLed and restarted, round after
// round on one stack, while HTTP clients and an upstream producer book. Every round: 0 lost, 0
// double-booked, every 202 readable, every booking terminal within 60 s of the broker's return, and
// every consumer group of every service consuming again with /healthz green.
// BROKER_RESTART_ROUNDS (default 5) and BROKER_RESTART_LOAD (HTTP bookings per round, default 120;
// a third as many again arrive on the inbound topic) size it. Figures: results/broker-restart.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brokerRestartRound, localBroker, type RoundResult } from '@booking/chaos';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kafkaClient, logger, serde } from '../support/helpers.js';
import { API_KEY, type Pipeline, startPipeline } from '../support/pipeline.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ROUNDS = Number(process.env.BROKER_RESTART_ROUNDS ?? 5);
const LOAD = Number(process.env.BROKER_RESTART_LOAD ?? 120);
const broker = localBroker(ROOT);

describe.skipIf(!broker)('broker SIGKILL and restart under load, round after round', () => {
  let p: Pipeline;
  const rounds: RoundResult[] = [];
  beforeAll(async () => {
    p = await startPipeline('broker-restart', {
      mock: { delayMs: 800 },
      dispatch: { PROVIDER_TIMEOUT_MS: '2000' },
    });
  });
  afterAll(async () => {
    mkdirSync(join(ROOT, 'results'), { recursive: true });
    writeFileSync(join(ROOT, 'results', 'broker-restart.json'), `${JSON.stringify({ rounds }, null, 2)}\n`);
    await p?.stop();
  });

  it(`loses nothing and leaves no consumer stopped in ${ROUNDS} rounds`, {
    timeout: ROUNDS * 300_000,
  }, async () => {
    const target = {
      intakeUrl: p.intakeUrl,
      apiKey: API_KEY,
      kafka: kafkaClient(),
      serde: serde(),
      topics: p.topics,
      ledgerUrl: `${p.mockUrl}/__mock/ledger`,
      health: p.healthUrls,
      groups: (g: string) => g.startsWith(`${p.prefix}.`),
      broker: broker!,
      logger,
    };
    for (let n = 1; n <= ROUNDS; n++) {
      const { bookingsDetail, ...r } = await brokerRestartRound(target, n, {
        http: LOAD,
        kafka: Math.ceil(LOAD / 3),
        clients: 16,
        killAt: 1 / 3,
        downMs: 10_000,
        settleBoundMs: 60_000,
      });
      rounds.push(r);
      for (const b of bookingsDetail) if (b.acknowledged) p.acknowledged.add(b.appointmentId);
      expect({ round: n, lost: r.lost, unreadable: r.unreadable, notTerminal: r.notTerminal }).toEqual({
        round: n,
        lost: [],
        unreadable: [],
        notTerminal: [],
      });
      expect({ round: n, doubleBooked: r.doubleBooked, unhealthy: r.unhealthy }).toEqual({
        round: n,
        doubleBooked: [],
        unhealthy: [],
      });
      expect(r.acknowledged).toBe(r.bookings);
    }
    // And the whole checker over every round's bookings, acknowledged acceptances included.
    const report = await p.invariantsHold(60_000);
    expect(report.passed).toBe(true);
  });
});
