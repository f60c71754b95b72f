// The acknowledgement check of the transactional sender: a batch is written only when every
// partition its messages went to answered without an error (issue 14: kafkajs once resolved a send
// that had skipped a partition whose leader moved, while the topic's other partitions answered).
import type { RecordMetadata } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { checkAcknowledged, recordingPartitioner } from './transactional-sender.js';

const metadata = (topicName: string, partition: number, errorCode = 0): RecordMetadata => ({
  topicName,
  partition,
  errorCode,
  baseOffset: '5',
});

describe('checkAcknowledged', () => {
  const partitionMetadata = [0, 1, 2, 3, 4, 5].map((partitionId) => ({
    partitionId,
    leader: 1,
    replicas: [1],
    isr: [1],
    partitionErrorCode: 0,
  }));
  const partition = recordingPartitioner();
  // Keys that murmur2 spreads over several partitions of a six-partition topic.
  const messages = ['appointment-a', 'appointment-b', 'appointment-c', 'appointment-d'].map((key) => ({
    key,
    value: Buffer.from('v'),
  }));
  const chosen = messages.map((message) => partition({ topic: 't', partitionMetadata, message }));
  const distinct = [...new Set(chosen)];

  it('accepts a batch when every partition its messages went to answered', () => {
    expect(distinct.length).toBeGreaterThan(1);
    expect(() =>
      checkAcknowledged(
        distinct.map((p) => metadata('t', p)),
        [{ topic: 't', messages }],
      ),
    ).not.toThrow();
  });

  it('refuses a batch when one partition has no answer, though the topic has', () => {
    const answers = distinct.slice(1).map((p) => metadata('t', p));
    expect(() => checkAcknowledged(answers, [{ topic: 't', messages }])).toThrow(
      new RegExp(`no answer for 1 partitions \\(t\\[${distinct[0]}\\]\\)`),
    );
  });

  it('refuses a batch when a partition answered with an error', () => {
    const answers = distinct.map((p, i) => metadata('t', p, i === 0 ? 6 : 0));
    expect(() => checkAcknowledged(answers, [{ topic: 't', messages }])).toThrow(
      /1 partition answers with an error/,
    );
  });
});
