// Schema evolution, guarded before a change reaches a registry (issue 18): each contract in
// schemas/avro is checked against its released version in schemas/released under the subjects'
// compatibility level (BACKWARD, register-schemas.ts), with the resolution rules the registry
// applies (avsc's schema resolution, the Avro spec's), and every problem names the field.
import avro from 'avsc';

export type EvolutionLevel = 'BACKWARD' | 'FORWARD' | 'FULL';

type T = avro.Type & Record<string, unknown>;
const PROMOTIONS: Record<string, string[]> = {
  int: ['long', 'float', 'double'],
  long: ['float', 'double'],
  float: ['double'],
  string: ['bytes'],
  bytes: ['string'],
};

/** A logical type's underlying type (a timestamp-millis is a long), else the type itself. */
const base = (t: T): T => {
  const u = t.underlyingType as T | undefined;
  return u ? base(u) : t;
};
const kind = (t: T): string => String(base(t).typeName);
const label = (t: T): string => {
  const b = base(t);
  // The short name: booking.v1.InboundRequest reads as InboundRequest in a message.
  return (b.name as string | undefined)?.split('.').pop() ?? kind(b);
};

/** Why data written with `writer` cannot be read with `reader`, one line per problem, each with its path. */
function readProblems(reader: T, writer: T, path: string, seen = new Set<string>()): string[] {
  const r = base(reader);
  const w = base(writer);
  const rk = kind(r);
  const wk = kind(w);
  if (wk === 'union') {
    // Every branch the writer may have written must be readable.
    return ((w.types as T[]) ?? []).flatMap((branch) =>
      rk === 'union'
        ? (r.types as T[]).some((rb) => readProblems(rb, branch, path, seen).length === 0)
          ? []
          : [
              `${path}: a value of type ${label(branch)} (the released schema may write it) is no longer accepted`,
            ]
        : readProblems(r, branch, path, seen),
    );
  }
  if (rk === 'union') {
    return (r.types as T[]).some((rb) => readProblems(rb, w, path, seen).length === 0)
      ? []
      : [`${path}: type ${label(w)} can no longer be read (the union has no branch for it)`];
  }
  if (rk !== wk) {
    if (PROMOTIONS[wk]?.includes(rk)) return [];
    return [`${path}: type changed from ${label(w)} to ${label(r)}`];
  }
  if (rk === 'record') {
    const key = `${r.name}<-${w.name}`;
    if (seen.has(key)) return [];
    seen.add(key);
    const wFields = new Map(
      (w.fields as { name: string; type: T; aliases?: string[] }[]).map((f) => [f.name, f]),
    );
    const out: string[] = [];
    for (const f of r.fields as { name: string; type: T; aliases?: string[]; defaultValue(): unknown }[]) {
      const from = wFields.get(f.name) ?? (f.aliases ?? []).map((a) => wFields.get(a)).find(Boolean);
      if (!from) {
        if (f.defaultValue() === undefined)
          out.push(
            `${path}.${f.name}: added without a default (records written with the other version have no value for it)`,
          );
        continue;
      }
      out.push(...readProblems(f.type, from.type, `${path}.${f.name}`, seen));
    }
    return out;
  }
  if (rk === 'enum') {
    const rs = new Set(r.symbols as string[]);
    const missing = (w.symbols as string[]).filter((s) => !rs.has(s));
    if (missing.length && (r as { default?: string }).default === undefined)
      return [
        `${path}: enum ${label(r)} lost symbol(s) ${missing.join(', ')} (records holding them could not be read)`,
      ];
    return [];
  }
  if (rk === 'array') return readProblems(r.itemsType as T, w.itemsType as T, `${path}[]`, seen);
  if (rk === 'map') return readProblems(r.valuesType as T, w.valuesType as T, `${path}{}`, seen);
  if (rk === 'fixed' && r.size !== w.size) return [`${path}: fixed size changed from ${w.size} to ${r.size}`];
  return [];
}

/** The problems of evolving `released` into `next` under `level`; empty when compatible. */
export function evolutionProblems(
  released: unknown,
  next: unknown,
  level: EvolutionLevel = 'BACKWARD',
): string[] {
  const oldT = avro.Type.forSchema(released as avro.Schema) as T;
  const newT = avro.Type.forSchema(next as avro.Schema) as T;
  const name = label(newT);
  const out: string[] = [];
  const check = (reader: T, writer: T, how: string) => {
    const named = readProblems(reader, writer, name);
    let resolver: string | undefined;
    try {
      reader.createResolver(writer);
    } catch (err) {
      resolver = (err as Error).message;
    }
    if (named.length) out.push(...named.map((p) => `${p} [${how}]`));
    else if (resolver) out.push(`${name}: ${resolver} [${how}]`);
  };
  if (level === 'BACKWARD' || level === 'FULL')
    check(newT, oldT, 'the new schema must read records written with the released one');
  if (level === 'FORWARD' || level === 'FULL')
    check(oldT, newT, 'the released schema must read records written with the new one');
  return out;
}
