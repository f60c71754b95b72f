// The entry point every service shares: start, then stop within a bound on SIGTERM or SIGINT
// (house rule 9: stop consuming, finish the batch in hand, flush, commit, close).
import type { Logger } from './logger.js';

export interface RunnableService {
  logger: Logger;
  start(): Promise<string>;
  stop(): Promise<void>;
}

export async function runService(service: RunnableService, shutdownTimeoutMs: number): Promise<void> {
  let stopping = false;
  let starting: Promise<string> | undefined;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    service.logger.info({ signal }, 'shutting down');
    // The bound: whatever has not closed by then is abandoned (and its offsets stay uncommitted).
    setTimeout(() => process.exit(1), shutdownTimeoutMs + 2000).unref();
    // A signal during start-up (consumer groups still joining) waits for the start, then stops.
    await starting?.catch(() => undefined);
    await service.stop();
    process.exit(0);
  };
  // Installed before start: a SIGTERM that arrives while the service is still starting must not
  // take the default action (an abrupt exit, found by the rebalance crash test).
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
  starting = service.start();
  const url = await starting;
  if (!stopping) service.logger.info({ url }, 'ready');
}
