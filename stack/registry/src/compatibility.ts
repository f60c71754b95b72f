// Avro schema compatibility, with the level names and semantics of the Confluent registry:
// BACKWARD = the new schema can read data written with the previous one (…_TRANSITIVE: with all).
import avro from 'avsc';

export const LEVELS = [
  'NONE',
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
] as const;
export type CompatibilityLevel = (typeof LEVELS)[number];

export function isLevel(value: unknown): value is CompatibilityLevel {
  return typeof value === 'string' && (LEVELS as readonly string[]).includes(value.toUpperCase());
}

export function parseAvro(schema: string): avro.Type {
  return avro.Type.forSchema(JSON.parse(schema));
}

/** Why `reader` cannot read data written with `writer`, or null when it can. */
function readProblem(reader: avro.Type, writer: avro.Type): string | null {
  try {
    reader.createResolver(writer);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * Checks `candidate` against the subject's existing schemas (oldest first).
 * Returns the list of problems; empty means compatible.
 */
export function checkCompatibility(
  level: CompatibilityLevel,
  candidate: string,
  existing: readonly string[],
): string[] {
  if (level === 'NONE' || existing.length === 0) return [];
  const transitive = level.endsWith('_TRANSITIVE');
  const against = transitive ? existing : existing.slice(-1);
  const next = parseAvro(candidate);
  const problems: string[] = [];
  for (const previousText of against) {
    const previous = parseAvro(previousText);
    if (level.startsWith('BACKWARD') || level.startsWith('FULL')) {
      const p = readProblem(next, previous);
      if (p) problems.push(`BACKWARD: the new schema cannot read data written with an earlier one: ${p}`);
    }
    if (level.startsWith('FORWARD') || level.startsWith('FULL')) {
      const p = readProblem(previous, next);
      if (p) problems.push(`FORWARD: an earlier schema cannot read data written with the new one: ${p}`);
    }
  }
  return problems;
}
