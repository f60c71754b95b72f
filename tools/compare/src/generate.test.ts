import { describe, expect, it } from 'vitest';
import { testDataFile } from './data-file.js';
import { generateLoad } from './generate.js';

const data = testDataFile.parse({
  version: 1,
  load: { mix: { a: 3, b: 1, c: 0 } },
  cases: ['a', 'b', 'c'].map((id) => ({ id, scenario: id, request: { body: {} } })),
});

describe('load generation', () => {
  it('draws the same sequence for the same seed, with ids L00001…', () => {
    const x = generateLoad(data, 50, 7).map((g) => g.template.id);
    const y = generateLoad(data, 50, 7).map((g) => g.template.id);
    expect(x).toEqual(y);
    expect(generateLoad(data, 2, 7).map((g) => g.id)).toEqual(['L00001', 'L00002']);
  });

  it('follows the mix: weight 0 never, 3:1 roughly', () => {
    const ids = generateLoad(data, 4000, 1).map((g) => g.template.id);
    expect(ids).not.toContain('c');
    const a = ids.filter((i) => i === 'a').length;
    expect(a / ids.length).toBeGreaterThan(0.7);
    expect(a / ids.length).toBeLessThan(0.8);
  });
});
