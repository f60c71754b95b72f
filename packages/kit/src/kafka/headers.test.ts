import { describe, expect, it } from 'vitest';
import { HEADERS, headerNumber, headersToStrings, headerValue, MAX_HEADER_CHARS } from './headers.js';

describe('headers are read defensively (issue 12)', () => {
  it.each([['1.5'], ['1e400'], ['1e3'], ['-3'], ['abc'], [''], ['0x10'], ['99999999999999999999']])(
    'an attempt of %j is absent, not a number that breaks an Avro int',
    (v) => {
      expect(headerNumber({ [HEADERS.attempt]: v }, HEADERS.attempt)).toBeUndefined();
    },
  );

  it('keeps each numeric header within its range', () => {
    expect(headerNumber({ [HEADERS.attempt]: '3' }, HEADERS.attempt)).toBe(3);
    expect(headerNumber({ [HEADERS.attempt]: '0' }, HEADERS.attempt)).toBeUndefined();
    expect(
      headerNumber({ [HEADERS.originalPartition]: String(2 ** 31) }, HEADERS.originalPartition),
    ).toBeUndefined();
    expect(headerNumber({ [HEADERS.originalOffset]: '9007199254740991' }, HEADERS.originalOffset)).toBe(
      Number.MAX_SAFE_INTEGER,
    );
    expect(headerNumber({ [HEADERS.deadline]: Buffer.from(' 1700000000000 ') }, HEADERS.deadline)).toBe(
      1_700_000_000_000,
    );
    expect(headerNumber({ [HEADERS.notBefore]: '-1' }, HEADERS.notBefore)).toBeUndefined();
  });

  it('cuts a long value and reads the first of repeated headers', () => {
    const long = 'x'.repeat(10_000);
    expect(headerValue({ [HEADERS.correlationId]: long }, HEADERS.correlationId)).toHaveLength(
      MAX_HEADER_CHARS,
    );
    expect(headerValue({ [HEADERS.correlationId]: Buffer.from(long) }, HEADERS.correlationId)).toHaveLength(
      MAX_HEADER_CHARS,
    );
    expect(headerValue({ [HEADERS.correlationId]: ['a', 'b'] }, HEADERS.correlationId)).toBe('a');
  });

  it("copies only the pipeline's own headers", () => {
    expect(
      headersToStrings({
        [HEADERS.correlationId]: 'c',
        'x-patient-email': 'someone@example.org',
        authorization: 'secret',
      }),
    ).toEqual({ [HEADERS.correlationId]: 'c' });
  });
});
