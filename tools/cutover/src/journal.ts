// The mirror's journal: one JSON line per mirrored request (the legacy's answer and the shadow's),
// appended to a file per UTC day and mirror instance, `mirror-YYYY-MM-DD.<instance>.jsonl`, so a
// cutover's weeks of traffic accumulate across mirror restarts, several mirrors behind one load
// balancer never write the same file, and old days can be archived without touching the current one.
// The comparison (compare-live.ts) reads every file of the directory.
import { createReadStream, createWriteStream, mkdirSync, readdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Logger } from '@booking/kit';
import type { MirroredPair } from './mirror.js';

const FILE = /^mirror-\d{4}-\d{2}-\d{2}(\.[A-Za-z0-9_-]{1,64})?\.jsonl$/;

/** An instance name safe in a file name (the host name by default). */
export function instanceName(raw: string): string {
  return raw.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 64) || 'mirror';
}

export interface Journal {
  write(pair: MirroredPair): void;
  /** The last write error, if any. */
  error(): string | undefined;
  close(): Promise<void>;
}

export function journalFile(dir: string, at: number, instance?: string): string {
  const day = new Date(at).toISOString().slice(0, 10);
  return join(dir, instance ? `mirror-${day}.${instanceName(instance)}.jsonl` : `mirror-${day}.jsonl`);
}

export function openJournal(dir: string, instance?: string, logger?: Logger): Journal {
  mkdirSync(dir, { recursive: true });
  let path: string | undefined;
  let stream: WriteStream | undefined;
  let failure: string | undefined;
  return {
    write(pair) {
      const want = journalFile(dir, Date.now(), instance);
      if (want !== path) {
        stream?.end();
        path = want;
        stream = createWriteStream(want, { flags: 'a' });
        stream.on('error', (err) => {
          failure = err.message;
          logger?.error({ err, path: want }, 'mirror journal: write failed');
        });
      }
      stream!.write(`${JSON.stringify(pair)}\n`);
    },
    error: () => failure,
    close: () => new Promise<void>((resolve) => (stream ? stream.end(resolve) : resolve())),
  };
}

/** Every pair in the directory's journal files, oldest file first; a torn or foreign line is skipped and counted. */
export async function* readJournal(
  dir: string,
  skipped: { lines: number } = { lines: 0 },
): AsyncGenerator<MirroredPair> {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => FILE.test(f));
  } catch {
    return;
  }
  for (const f of files.sort()) {
    const lines = createInterface({
      input: createReadStream(join(dir, f)),
      crlfDelay: Number.POSITIVE_INFINITY,
    });
    for await (const line of lines) {
      if (!line.trim()) continue;
      try {
        const p = JSON.parse(line) as MirroredPair;
        if (typeof p.requestId === 'string' && typeof p.receivedAt === 'number') yield p;
        else skipped.lines++;
      } catch {
        skipped.lines++;
      }
    }
  }
}
