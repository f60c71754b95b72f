// A record as the consumer runtime hands it to a handler: for handler unit tests, which fake the
// outside world but not the shape of what they are given.
import type { RuntimeRecord } from './consumer-runtime.js';
import type { RecordHeaders } from './emit.js';
import { HEADERS } from './headers.js';

export interface RecordOfOptions {
  key?: string | null;
  partition?: number;
  offset?: string;
  /** Sets x-attempt. */
  attempt?: number;
  headers?: RecordHeaders;
  /** The raw value bytes a dead letter keeps; default one byte. */
  raw?: Buffer;
  /** The record's timestamp (epoch ms as a string); default '0'. */
  timestamp?: string;
}

export function recordOf<T>(topic: string, value: T, o: RecordOfOptions = {}): RuntimeRecord<T> {
  const key = o.key === undefined ? ((value as { appointmentId?: string }).appointmentId ?? null) : o.key;
  const partition = o.partition ?? 0;
  const offset = o.offset ?? '0';
  const headers: RecordHeaders = {
    ...(o.attempt !== undefined ? { [HEADERS.attempt]: String(o.attempt) } : {}),
    ...o.headers,
  };
  return {
    topic,
    partition,
    offset,
    key,
    value,
    headers,
    timestamp: o.timestamp ?? '0',
    source: {
      topic,
      partition,
      message: {
        key: key === null ? null : Buffer.from(key),
        value: o.raw ?? Buffer.from([0]),
        offset,
        headers,
      },
    },
  };
}
