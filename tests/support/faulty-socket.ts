// A kafkajs socket factory that injects network faults between a client and the real broker (the
// broker itself is untouched): `dropNext` loses the next answer the broker sends and closes the
// connection, as a broker killed mid-request does; `failAll` refuses every connection; `delayMs`
// holds every answer back. Used to show issue 20's cause deterministically, and to drive intake
// through failed and slow commits.
import net from 'node:net';
import type { ISocketFactory } from 'kafkajs';

export interface FaultySockets {
  socketFactory: ISocketFactory;
  /** Lose the next answer on the newest connection (the broker has handled the request). */
  dropNext(): void;
  failAll: boolean;
  delayMs: number;
  /** Answers dropped so far. */
  dropped: number;
}

export function faultySockets(): FaultySockets {
  const sockets = new Set<net.Socket & { dropNext?: boolean }>();
  const faults: FaultySockets = {
    failAll: false,
    delayMs: 0,
    dropped: 0,
    dropNext() {
      const newest = [...sockets].at(-1);
      if (newest) newest.dropNext = true;
    },
    socketFactory: ({ host, port, onConnect }) => {
      const socket: net.Socket & { dropNext?: boolean } = net.connect({ host, port }, onConnect);
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      const emit = socket.emit.bind(socket) as (event: string, ...args: unknown[]) => boolean;
      socket.emit = ((event: string, ...args: unknown[]) => {
        if (event === 'data') {
          if (faults.failAll || socket.dropNext) {
            if (socket.dropNext) faults.dropped++;
            socket.dropNext = false;
            socket.destroy(new Error('injected: connection lost before the answer'));
            return true;
          }
          if (faults.delayMs > 0) {
            setTimeout(() => emit(event, ...args), faults.delayMs);
            return true;
          }
        }
        return emit(event, ...args);
      }) as typeof socket.emit;
      return socket;
    },
  };
  return faults;
}
