import { describe, expect, it } from 'vitest';
import { mergePatch, resolve } from './template.js';

const ctx = { uid: 'r1a-C01', now: Date.parse('2030-01-01T10:17:00Z') };

describe('placeholders', () => {
  it('fills uid and slot times inside strings, 30 days ahead on the hour, 30 minutes long', () => {
    expect(
      resolve({ cal: 'cal-immediate-{{uid}}', slot: { start: '{{slotStart}}', end: '{{slotEnd}}' } }, ctx),
    ).toEqual({
      cal: 'cal-immediate-r1a-C01',
      slot: { start: '2030-01-31T10:00:00Z', end: '2030-01-31T10:30:00Z' },
    });
  });

  it('puts past slots yesterday', () => {
    expect(resolve('{{pastStart}}', ctx)).toBe('2029-12-31T10:00:00Z');
  });

  it('turns a whole-string {{now+MS}} into a number and leaves unknown names alone', () => {
    expect(resolve({ deadline: '{{now+8000}}', other: 'x {{nope}}' }, ctx)).toEqual({
      deadline: ctx.now + 8000,
      other: 'x {{nope}}',
    });
  });

  it('merges a patch into a copy, deep for objects', () => {
    const body = { reason: 'a', slot: { start: 's', end: 'e' } };
    expect(mergePatch(body, { reason: 'b', slot: { end: 'f' } })).toEqual({
      reason: 'b',
      slot: { start: 's', end: 'f' },
    });
    expect(body.reason).toBe('a');
    expect(mergePatch(body, null)).toBe(body);
  });
});
