// Issue 19: a configuration variable the code reads and no document names is a setting nobody can
// find; one the docs name and no code reads is a setting that does nothing. Both fail here. Read
// statically: the keys of the services' and the kit's config schemas (zod), the variables the
// provider mock and the services read from process.env, against every `VARIABLE` the docs name,
// and the configuration table of docs/booking-flow.md against what the code reads.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sources(path));
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

const CODE_DIRS = [
  'packages/kit/src',
  'mocks/provider/src',
  'tools/cutover/src',
  ...readdirSync(join(ROOT, 'services')).map((s) => `services/${s}/src`),
];

/** Variables the running product reads: config schema keys and process.env reads. */
function readByCode(): Set<string> {
  const vars = new Set<string>();
  for (const dir of CODE_DIRS)
    for (const file of sources(join(ROOT, dir))) {
      const text = readFileSync(file, 'utf8');
      if (/config\.ts$/.test(file))
        for (const m of text.matchAll(/^\s+([A-Z][A-Z0-9_]{2,}):/gm)) vars.add(m[1]!);
      for (const m of text.matchAll(/process\.env\.([A-Z][A-Z0-9_]{2,})/g)) vars.add(m[1]!);
      for (const m of text.matchAll(/\b(MOCK_[A-Z0-9_]+)\b/g)) vars.add(m[1]!);
    }
  return vars;
}

/** Every `VARIABLE` named in backticks in docs/ and the README. */
function namedByDocs(): Set<string> {
  const vars = new Set<string>();
  const files = [
    join(ROOT, 'README.md'),
    ...readdirSync(join(ROOT, 'docs')).map((f) => join(ROOT, 'docs', f)),
  ];
  for (const file of files.filter((f) => f.endsWith('.md')))
    for (const m of readFileSync(file, 'utf8').matchAll(/`([A-Z][A-Z0-9]*_[A-Z0-9_]+)(?:=[^`]*)?`/g))
      vars.add(m[1]!);
  return vars;
}

describe('configuration variables and the docs', () => {
  it('every variable the services, the kit and the mock read is named in the docs', () => {
    const documented = namedByDocs();
    const missing = [...readByCode()].filter((v) => !documented.has(v)).sort();
    expect(missing).toEqual([]);
  });

  it("every variable in docs/booking-flow.md's configuration table is read by the code", () => {
    const text = readFileSync(join(ROOT, 'docs', 'booking-flow.md'), 'utf8');
    const table = text.slice(
      text.indexOf('## Configuration'),
      text.indexOf('\n## ', text.indexOf('## Configuration') + 5),
    );
    const named = [...table.matchAll(/`([A-Z][A-Z0-9]*_[A-Z0-9_]+)`/g)].map((m) => m[1]!);
    expect(named.length).toBeGreaterThan(10);
    const read = readByCode();
    expect(named.filter((v) => !read.has(v)).sort()).toEqual([]);
  });
});
