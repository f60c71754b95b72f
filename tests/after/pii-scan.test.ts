// Runs after the integration suite (run_tests.sh): every log file and audit trail the run wrote
// must be free of the test data's names, phones and emails.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { TEST_PII } from '../support/test-data.js';

const LOGS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'logs');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : /\.(log|jsonl|txt)$/.test(name) ? [path] : [];
  });
}

describe('PII in logs and audit trails', () => {
  const all = files(LOGS);

  it('has log files and audit trails to scan', () => {
    expect(all.some((f) => f.endsWith('.audit.jsonl'))).toBe(true);
    expect(all.some((f) => f.includes(`${join('logs', 'tests')}`) && f.endsWith('.log'))).toBe(true);
  });

  it.each([...TEST_PII.names, ...TEST_PII.phones, ...TEST_PII.emails])(
    'contains no "%s" anywhere',
    (needle) => {
      const hits = all.filter((f) => readFileSync(f, 'utf8').includes(needle));
      expect(hits).toEqual([]);
    },
  );
});
