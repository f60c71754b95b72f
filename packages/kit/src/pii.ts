// PII follows the schema: a field marked `"pii": true` in an .avsc file is masked in logs and in
// the audit trail. No hand-kept list of names to forget.
import { SCHEMAS, type SchemaName } from '@booking/schemas';

export const MASK = '[REDACTED]';

type AvroNode = unknown;

function walk(node: AvroNode, prefix: string[], out: string[][]): void {
  if (Array.isArray(node)) {
    for (const branch of node) walk(branch, prefix, out);
    return;
  }
  if (!node || typeof node !== 'object') return;
  const n = node as {
    type?: unknown;
    fields?: { name: string; type: unknown; pii?: boolean }[];
    items?: unknown;
  };
  if (n.type === 'record' && Array.isArray(n.fields)) {
    for (const field of n.fields) {
      const path = [...prefix, field.name];
      if (field.pii === true) out.push(path);
      else walk(field.type, path, out);
    }
    return;
  }
  if (n.type === 'array') {
    walk(n.items, prefix, out);
    return;
  }
  if (typeof n.type === 'object') walk(n.type, prefix, out);
}

/** Dotted paths of the PII fields of one schema, e.g. ['patient.name', 'patient.phone', …]. */
export function piiPaths(schemaName: SchemaName): string[] {
  const out: string[][] = [];
  walk(SCHEMAS[schemaName], [], out);
  return out.map((p) => p.join('.'));
}

/** Every PII path of every contract, deduplicated. */
export function allPiiPaths(): string[] {
  const paths = new Set<string>();
  for (const name of Object.keys(SCHEMAS) as SchemaName[]) for (const p of piiPaths(name)) paths.add(p);
  return [...paths].sort();
}

/** A copy of `value` with the schema's PII fields masked (null stays null: absence is not PII). */
export function maskPii<T>(schemaName: SchemaName, value: T): T {
  const copy = structuredClone(value) as unknown;
  for (const path of piiPaths(schemaName)) {
    const keys = path.split('.');
    let cursor = copy as Record<string, unknown> | null;
    for (const key of keys.slice(0, -1)) {
      const next = cursor?.[key];
      cursor = next && typeof next === 'object' ? (next as Record<string, unknown>) : null;
    }
    const last = keys.at(-1)!;
    if (cursor && cursor[last] !== null && cursor[last] !== undefined) cursor[last] = MASK;
  }
  return copy as T;
}
