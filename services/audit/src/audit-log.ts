// The audit trail: append-only JSON lines through one buffered stream (no synchronous write per
// record). Everything written has been masked by the schemas' PII marks.
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';

export interface AuditLine {
  auditId: string;
  kind: 'TRANSITION' | 'ILLEGAL_TRANSITION' | 'DEAD_LETTER' | 'QUARANTINE' | 'ALERT' | 'RECONCILER_DECISION';
  appointmentId: string | null;
  correlationId: string | null;
  from: string | null;
  to: string | null;
  reason: string | null;
  topic: string;
  partition: number;
  offset: string;
  at: string;
  recordedAt: string;
  alert?: true;
  /** The event was already applied (a redelivery or a retry); the line repeats it. */
  duplicate?: true;
  payload?: unknown;
}

export class AuditLog {
  private readonly stream: WriteStream;

  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.stream = createWriteStream(path, { flags: 'a' });
  }

  append(lines: AuditLine[]): Promise<void> {
    if (lines.length === 0) return Promise.resolve();
    const text = `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`;
    return new Promise((resolve, reject) =>
      this.stream.write(text, (err) => (err ? reject(err) : resolve())),
    );
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.stream.end(resolve));
  }
}
