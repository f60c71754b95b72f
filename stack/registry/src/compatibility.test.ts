import { describe, expect, it } from 'vitest';
import { checkCompatibility } from './compatibility.js';

const v1 = JSON.stringify({ type: 'record', name: 'R', fields: [{ name: 'a', type: 'string' }] });
const addOptional = JSON.stringify({
  type: 'record',
  name: 'R',
  fields: [
    { name: 'a', type: 'string' },
    { name: 'b', type: ['null', 'string'], default: null },
  ],
});
const addRequired = JSON.stringify({
  type: 'record',
  name: 'R',
  fields: [
    { name: 'a', type: 'string' },
    { name: 'b', type: 'string' },
  ],
});
const dropA = JSON.stringify({ type: 'record', name: 'R', fields: [] });

describe('Avro compatibility', () => {
  it('BACKWARD accepts a new field with a default and refuses one without', () => {
    expect(checkCompatibility('BACKWARD', addOptional, [v1])).toEqual([]);
    expect(checkCompatibility('BACKWARD', addRequired, [v1])[0]).toMatch(/^BACKWARD/);
  });

  it('FORWARD refuses removing a field the old reader needs', () => {
    expect(checkCompatibility('FORWARD', dropA, [v1])).toHaveLength(1);
    expect(checkCompatibility('BACKWARD', dropA, [v1])).toEqual([]);
  });

  it('checks only the latest version unless transitive', () => {
    const history = [v1, addOptional];
    const dropB = v1; // compatible with both
    expect(checkCompatibility('BACKWARD_TRANSITIVE', dropB, history)).toEqual([]);
    expect(checkCompatibility('FULL_TRANSITIVE', addRequired, history).length).toBeGreaterThan(0);
  });

  it('NONE and a first version accept anything', () => {
    expect(checkCompatibility('NONE', addRequired, [v1])).toEqual([]);
    expect(checkCompatibility('BACKWARD', addRequired, [])).toEqual([]);
  });
});
