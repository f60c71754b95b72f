// The entry point every service shares: start, then stop within a bound on SIGTERM or SIGINT
// (house rule 9: stop consuming, finish the batch in hand, flush, commit, close).
import { startFailure } from './connections.js';
import type { Logger } from './logger.js';

export interface RunnableService {
  logger: Logger;
  start(): Promise<string>;
  stop(): Promise<void>;
}

export async function runService(
  service: RunnableService,
  shutdownTimeoutMs: number,
  /** Run after the service stopped, before exit (the tracing SDK's flush). */
  afterStop?: () => Promise<void>,
): Promise<void> {
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
    await afterStop?.().catch(() => undefined);
    process.exit(0);
  };
  // Installed before start: a SIGTERM that arrives while the service is still starting must not
  // take the default action (an abrupt exit, found by the rebalance crash test).
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
  starting = service.start();
  let url: string;
  try {
    url = await starting;
  } catch (err) {
    // A service that cannot start says why in one line (wrong credentials, an untrusted
    // certificate, a plaintext client at a TLS port …) and exits, rather than leaving a trace.
    const line = startFailure(err);
    service.logger.fatal({ err }, line);
    service.logger.flush?.();
    process.stderr.write(`${line}\n`);
    process.exit(1);
  }
  if (!stopping) service.logger.info({ url }, 'ready');
}
