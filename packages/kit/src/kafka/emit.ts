// What a handler returns: records to produce. The runtime encodes, produces and commits them.
export interface Emit {
  topic: string;
  key: string | null;
  value: unknown;
  headers?: Record<string, string>;
}
