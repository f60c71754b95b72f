// The declarations hold together: docs/architecture.md is what they say (regenerate with
// `npm run -s docs:architecture`), every topic has a writer and a reader, and the fuzz harness
// aims at every topic a consumer reads. Needs no broker.
import { readFileSync, writeFileSync } from 'node:fs';
import { consumedTopics } from '@booking/fuzz';
import { DEFAULT_RETRY_DELAYS_MS, TOPIC_NAMES, topicsRead } from '@booking/kit';
import { describe, expect, it } from 'vitest';
import {
  ARCHITECTURE_PAGE as PAGE,
  renderArchitecture,
  topicUse,
  topologies,
} from '../support/architecture.js';

describe('the services as declared', () => {
  it('docs/architecture.md is generated from the declarations', () => {
    const page = renderArchitecture();
    if (process.env.ARCHITECTURE_WRITE === '1') writeFileSync(PAGE, page);
    expect(readFileSync(PAGE, 'utf8'), 'docs/architecture.md is stale: npm run -s docs:architecture').toBe(
      page,
    );
  });

  it('every topic is written by someone and read by someone', () => {
    const orphans = topicUse().filter((u) => u.writers.length === 0 || u.readers.length === 0);
    expect(orphans).toEqual([]);
  });

  it('the fuzz harness aims at every topic a consumer reads', () => {
    const read = new Set(
      topologies().flatMap((s) => Object.values(s.consumers).flatMap((c) => topicsRead(c))),
    );
    const fuzzed = new Set(consumedTopics(TOPIC_NAMES, DEFAULT_RETRY_DELAYS_MS).map((t) => t.name));
    expect([...fuzzed].sort()).toEqual([...read].sort());
  });
});
