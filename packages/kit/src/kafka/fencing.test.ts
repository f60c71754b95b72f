import { describe, expect, it } from 'vitest';
import { isFencing } from './transactional-sender.js';

describe('isFencing', () => {
  it("recognises kafkajs's answers to a producer a newer one of the same id has fenced, wrapped or not", () => {
    expect(isFencing({ type: 'INVALID_PRODUCER_EPOCH', message: 'x' })).toBe(true);
    expect(isFencing({ type: 'PRODUCER_FENCED', message: 'x' })).toBe(true);
    expect(
      isFencing({
        message: 'could not commit',
        cause: {
          message: 'There is a newer producer with the same transactionalId which fences the current one',
        },
      }),
    ).toBe(true);
    expect(isFencing({ type: 'CONCURRENT_TRANSACTIONS', message: 'another operation is ongoing' })).toBe(
      false,
    );
    expect(isFencing(new Error('Connection error: connect ECONNREFUSED'))).toBe(false);
    expect(isFencing(undefined)).toBe(false);
  });
});
