import { describe, expect, it } from 'vitest';
import { deadLetterEmit, MAX_KEPT_VALUE_BYTES, safeKey } from './dead-letter.js';
import { HEADERS } from './headers.js';

const source = (overrides: Record<string, unknown> = {}) => ({
  topic: 'in',
  partition: 2,
  message: {
    key: Buffer.from('clinic-a:patient-jo-bloggs-1984'),
    value: Buffer.from([0, 0, 0, 0, 1, 2]),
    offset: '41',
    headers: {
      [HEADERS.attempt]: '1.5',
      [HEADERS.originalOffset]: 'not-a-number',
      [HEADERS.correlationId]: 'c-1',
      'x-patient-name': 'Jo Bloggs',
    },
    ...overrides,
  },
});

describe('dead letters carry nothing that breaks them or exposes anyone (issue 12)', () => {
  it('hashes a key that is not an appointment id, and keeps an appointment id', () => {
    expect(safeKey('clinic-a:patient-jo-bloggs-1984')).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(safeKey('34963e3c-2864-885e-a293-e740cc9d7ef2')).toBe('34963e3c-2864-885e-a293-e740cc9d7ef2');
    const e = deadLetterEmit({
      dltTopic: 'dlt',
      source: source(),
      reason: 'DECODE_FAILED',
      error: new Error('bad'),
    });
    expect(e.key).toMatch(/^sha256:/);
    const v = e.value as { originalKey: Buffer; originalHeaders: Record<string, string> };
    expect(v.originalKey.toString()).toBe(e.key);
    expect(JSON.stringify(v)).not.toContain('jo-bloggs');
    expect(v.originalHeaders).toEqual({
      [HEADERS.attempt]: '1.5',
      [HEADERS.originalOffset]: 'not-a-number',
      [HEADERS.correlationId]: 'c-1',
    });
  });

  it('falls back to the record itself where a header is no number in range', () => {
    const v = deadLetterEmit({ dltTopic: 'dlt', source: source(), reason: 'DECODE_FAILED', error: 'x' })
      .value as {
      attempts: number;
      originalOffset: number;
      originalPartition: number;
    };
    expect(v).toMatchObject({ attempts: 1, originalOffset: 41, originalPartition: 2 });
  });

  it('keeps no value over the bound, and says so', () => {
    const big = Buffer.alloc(MAX_KEPT_VALUE_BYTES + 1);
    const v = deadLetterEmit({
      dltTopic: 'dlt',
      source: source({ value: big }),
      reason: 'DECODE_FAILED',
      error: 'x',
    }).value as { originalValue: Buffer | null; errorMessage: string };
    expect(v.originalValue).toBeNull();
    expect(v.errorMessage).toMatch(/is not kept/);
  });
});
