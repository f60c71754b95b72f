import { describe, expect, it } from 'vitest';
import { delayLabel, retryTopicName, subjectOf, TOPIC_NAMES, topicSpecs } from './topics.js';

describe('topic registry', () => {
  it('names retry topics <source>.retry-<delay>', () => {
    expect(retryTopicName(TOPIC_NAMES.requested, 1000)).toBe('appointments.requested.v1.retry-1s');
    expect(retryTopicName(TOPIC_NAMES.requested, 60000)).toBe('appointments.requested.v1.retry-60s');
    expect(delayLabel(250)).toBe('250ms');
  });

  it('declares every topic once, with partitions, retention and a schema', () => {
    const specs = topicSpecs();
    const names = specs.map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(expect.arrayContaining(Object.values(TOPIC_NAMES)));
    expect(names.filter((n) => n.includes('.retry-'))).toHaveLength(8);
    for (const s of specs) {
      expect(s.partitions).toBeGreaterThan(0);
      expect(s.retentionMs).toBeGreaterThan(0);
    }
    expect(specs.find((s) => s.name === 'appointments.requested.v1.retry-4s')?.schema).toBe(
      'AppointmentRequested',
    );
  });

  it('follows the retry schedule it is given', () => {
    const names = topicSpecs([500, 2000]).map((s) => s.name);
    expect(names).toContain('appointments.requested.v1.retry-500ms');
    expect(names).toContain('appointments.compensation.v1.retry-2s');
    expect(names).not.toContain('appointments.requested.v1.retry-1s');
  });

  it('uses TopicNameStrategy subjects', () => {
    expect(subjectOf('appointments.dlt.v1')).toBe('appointments.dlt.v1-value');
  });
});
