import { describe, expect, it } from 'vitest';
import { commitDue } from './transaction-batcher.js';

describe('commitDue: the batch policy', () => {
  const p = { intervalMs: 100, maxRecords: 3 };
  it('nothing open is never due', () => expect(commitDue(undefined, 1e9, p)).toBe(false));
  it('due at the interval, or at the size bound, whichever first', () => {
    expect(commitDue({ since: 1000, records: 1 }, 1099, p)).toBe(false);
    expect(commitDue({ since: 1000, records: 1 }, 1100, p)).toBe(true);
    expect(commitDue({ since: 1000, records: 3 }, 1000, p)).toBe(true);
    expect(commitDue({ since: 1000, records: 2 }, 1000, p)).toBe(false);
  });
});
