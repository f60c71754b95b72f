// Sums vitest's JSON reports into one plain closing line: "N passed, N failed[, N skipped]",
// after the name and first message line of every failed test.
// Exit 1 when a suite failed, wrote no report, or ran no test at all.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2] ?? 'results/tests';
const expected = [
  'kit',
  'local-registry',
  'provider-mock',
  'intake',
  'provider-dispatch',
  'compensation',
  'compare',
  'cutover',
  'lag',
  'dlt',
  'bench',
  'chaos',
  'fuzz',
  'integration',
  'faults',
  'pii-scan',
];

let passed = 0;
let failed = 0;
let skipped = 0;
let bad = false;
const failures = [];
/** The first line of an error message, bounded. */
const firstLine = (text) =>
  String(text ?? '')
    .split('\n')[0]
    .slice(0, 300);
for (const name of expected) {
  const file = join(dir, `${name}.json`);
  if (!existsSync(file)) {
    console.log(`${name}: no report (the suite did not run to the end)`);
    bad = true;
    continue;
  }
  const r = JSON.parse(readFileSync(file, 'utf8'));
  const s = r.numPendingTests + r.numTodoTests;
  console.log(`${name}: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${s} skipped`);
  passed += r.numPassedTests;
  failed += r.numFailedTests;
  skipped += s;
  if (r.numTotalTests === 0) bad = true;
  for (const suite of r.testResults ?? []) {
    const file = String(suite.name ?? '').replace(/^.*?\/(tests|services|packages|tools)\//, '$1/');
    for (const t of suite.assertionResults ?? []) {
      if (t.status !== 'failed') continue;
      failures.push(`${name}: ${file} > ${t.fullName ?? t.title}\n    ${firstLine(t.failureMessages?.[0])}`);
    }
    if ((suite.assertionResults ?? []).length === 0 && suite.status === 'failed') {
      failures.push(`${name}: ${file} (suite failed to load)\n    ${firstLine(suite.message)}`);
    }
  }
}
for (const extra of readdirSync(dir).filter((f) => !expected.includes(f.replace(/\.json$/, '')))) {
  console.log(`(ignored unexpected report ${extra})`);
}
// The names of the failed tests come last, next to the totals, so that a log cut to its tail still
// says which test failed and why.
if (failures.length > 0) {
  console.log('failed:');
  for (const f of failures.slice(0, 20)) console.log(`  ${f}`);
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || bad ? 1 : 0);
