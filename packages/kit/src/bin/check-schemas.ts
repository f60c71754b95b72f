#!/usr/bin/env node
// `npm run check:schemas` (CI runs it): every contract in schemas/avro against its released version
// in schemas/released, under the subjects' compatibility level (BACKWARD). Fails naming each field.
// A deliberate breaking change is a new topic version (docs/contracts.md, "Changing a schema").
//   --release   after a release: copy schemas/avro over schemas/released (the new baseline)
import { copyFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { evolutionProblems } from '../schema-evolution.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const current = join(ROOT, 'schemas', 'avro');
const released = join(ROOT, 'schemas', 'released');
const files = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.avsc'))
    .sort();

if (process.argv.includes('--release')) {
  for (const f of files(current)) copyFileSync(join(current, f), join(released, f));
  process.stdout.write(`schemas/released now holds ${files(current).length} schemas\n`);
  process.exit(0);
}

const problems: string[] = [];
for (const f of files(released)) {
  if (!existsSync(join(current, f))) {
    problems.push(
      `${f}: a released schema was removed; its topic's producers and consumers still need it (add a new topic version instead)`,
    );
    continue;
  }
  const read = (dir: string) => JSON.parse(readFileSync(join(dir, f), 'utf8'));
  for (const p of evolutionProblems(read(released), read(current), 'BACKWARD')) problems.push(`${f}: ${p}`);
}
const fresh = files(current).filter((f) => !existsSync(join(released, f)));
if (problems.length) {
  process.stderr.write(
    `schema evolution: ${problems.length} incompatible change(s) against schemas/released (BACKWARD):\n  - ${problems.join('\n  - ')}\nA deliberate breaking change is a new topic version (.v2): docs/contracts.md, "Changing a schema".\n`,
  );
  process.exit(1);
}
process.stdout.write(
  `schema evolution: ${files(released).length} released schemas, every change compatible (BACKWARD)${fresh.length ? `; new, not released yet: ${fresh.join(', ')}` : ''}\n`,
);
