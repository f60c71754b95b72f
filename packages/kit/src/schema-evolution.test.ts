// The schema-evolution guard on the real contracts: unchanged they pass; each edit that would break
// an upstream producer or a consumer fails, naming the field.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { evolutionProblems } from './schema-evolution.js';

const read = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../../schemas/released/${name}`, import.meta.url), 'utf8')) as {
    fields: { name: string; type: unknown; default?: unknown }[];
  };
const edit = (name: string, change: (s: ReturnType<typeof read>) => void) => {
  const s = read(name);
  change(s);
  return s;
};

describe('schema evolution against the released contracts', () => {
  it('passes every contract as it is, and a new optional field', () => {
    for (const f of ['inbound-request.avsc', 'lifecycle-transition.avsc', 'appointment-requested.avsc'])
      expect(evolutionProblems(read(f), read(f)), f).toEqual([]);
    const next = edit('inbound-request.avsc', (s) =>
      s.fields.push({ name: 'channel', type: ['null', 'string'], default: null }),
    );
    expect(evolutionProblems(read('inbound-request.avsc'), next)).toEqual([]);
  });

  it('fails a field added without a default, naming it', () => {
    const next = edit('inbound-request.avsc', (s) => s.fields.push({ name: 'clinicId', type: 'string' }));
    const p = evolutionProblems(read('inbound-request.avsc'), next);
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/^InboundRequest\.clinicId: added without a default/);
  });

  it('fails a removed enum symbol, naming the field and the symbol', () => {
    const next = edit('lifecycle-transition.avsc', (s) => {
      // The enum is defined in `from`'s union; `to` refers to it by name.
      const to = s.fields.find((f) => f.name === 'from')!;
      const enumType = (Array.isArray(to.type) ? to.type.find((t) => typeof t === 'object') : to.type) as {
        symbols?: string[];
      };
      enumType.symbols = enumType.symbols!.filter((x) => x !== 'COMPENSATED');
    });
    const p = evolutionProblems(read('lifecycle-transition.avsc'), next).join('\n');
    expect(p).toMatch(/LifecycleTransition\.(to|from): enum AppointmentState lost symbol\(s\) COMPENSATED/);
  });

  it("fails a field's type changed to one that cannot read the old, and allows a promotion", () => {
    const released = {
      type: 'record',
      name: 'R',
      fields: [
        { name: 'n', type: 'int' },
        { name: 's', type: 'string' },
      ],
    };
    expect(
      evolutionProblems(released, {
        ...released,
        fields: [
          { name: 'n', type: 'long' },
          { name: 's', type: 'string' },
        ],
      }),
    ).toEqual([]);
    expect(
      evolutionProblems(released, {
        ...released,
        fields: [
          { name: 'n', type: 'int' },
          { name: 's', type: 'int' },
        ],
      }),
    ).toEqual([expect.stringMatching(/^R\.s: type changed from string to int/)]);
  });

  it('under FULL also fails what the released schema could not read', () => {
    const released = { type: 'record', name: 'R', fields: [{ name: 'a', type: 'string' }] };
    const next = { type: 'record', name: 'R', fields: [] };
    expect(evolutionProblems(released, next, 'BACKWARD')).toEqual([]);
    expect(evolutionProblems(released, next, 'FULL')).toEqual([
      expect.stringMatching(/^R\.a: added without a default .*released schema must read/),
    ]);
  });
});
