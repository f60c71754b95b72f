import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DataFileError, expectationFile, parseWith, testDataFile } from './data-file.js';

const repo = (p: string) => fileURLToPath(new URL(`../../../${p}`, import.meta.url));

describe('data files', () => {
  it('the shipped test data and both expectation files parse, and cover the same case ids', async () => {
    const data = parseWith(testDataFile, await readFile(repo('data/test_data.json'), 'utf8'), 'test_data');
    const post = parseWith(
      expectationFile,
      await readFile(repo('data/expected_postchange.json'), 'utf8'),
      'post',
    );
    const pre = parseWith(
      expectationFile,
      await readFile(repo('data/expected_prechange.json'), 'utf8'),
      'pre',
    );
    const ids = data.cases.map((c) => c.id).sort();
    expect(ids.length).toBeGreaterThanOrEqual(12);
    expect(Object.keys(post.cases).sort()).toEqual(ids);
    expect(Object.keys(pre.cases).sort()).toEqual(ids);
  });

  it('lists every problem of a bad file with its path', () => {
    const bad = JSON.stringify({
      version: 1,
      load: { mix: { ghost: 1 } },
      cases: [
        { id: 'a', scenario: 's', request: {} },
        { id: 'a', scenario: 's', request: { body: {} }, send: { times: 0 } },
      ],
    });
    let error: DataFileError | undefined;
    try {
      parseWith(testDataFile, bad, 'mine.json');
    } catch (err) {
      error = err as DataFileError;
    }
    expect(error).toBeInstanceOf(DataFileError);
    expect(error!.message).toContain('mine.json');
    expect(error!.problems.some((p) => p.startsWith('cases.0.request'))).toBe(true);
    expect(error!.problems.some((p) => p.startsWith('cases.1.send.times'))).toBe(true);
  });

  it('says when a file is not JSON', () => {
    expect(() => parseWith(testDataFile, '{', 'x.json')).toThrow(/x\.json: 1 problem/);
  });
});
