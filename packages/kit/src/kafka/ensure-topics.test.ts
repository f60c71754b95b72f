import { describe, expect, it } from 'vitest';
import { topicDurability } from './ensure-topics.js';

describe('topicDurability', () => {
  it('follows the broker count: one copy on one node, three with two in sync from three brokers up', () => {
    expect(topicDurability(1)).toEqual({ replicationFactor: 1, minInsyncReplicas: 1 });
    expect(topicDurability(2)).toEqual({ replicationFactor: 2, minInsyncReplicas: 1 });
    expect(topicDurability(3)).toEqual({ replicationFactor: 3, minInsyncReplicas: 2 });
    expect(topicDurability(7)).toEqual({ replicationFactor: 3, minInsyncReplicas: 2 });
    expect(topicDurability(0)).toEqual({ replicationFactor: 1, minInsyncReplicas: 1 });
  });
});
