// Topics exist because the project created them, with the declared shape; the broker never
// creates one because a client asked for it.
import {
  createProducer,
  ensureTopics,
  TOPIC_NAMES,
  type TopicSpec,
  topicDurability,
  topicSpecs,
} from '@booking/kit';
import { afterAll, describe, expect, it } from 'vitest';
import { kafkaClient, unique } from '../support/helpers.js';

describe('topics', () => {
  const kafka = kafkaClient();
  const admin = kafka.admin();
  afterAll(() => admin.disconnect());

  it('has every project topic with its declared partitions and retention', async () => {
    await admin.connect();
    const specs = topicSpecs();
    const { topics } = await admin.fetchTopicMetadata({ topics: specs.map((s) => s.name) });
    for (const spec of specs) {
      expect(topics.find((t) => t.name === spec.name)?.partitions.length, spec.name).toBe(spec.partitions);
    }
    const configs = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: 2, name: TOPIC_NAMES.lifecycle, configNames: ['retention.ms'] }],
    });
    expect(configs.resources[0]?.configEntries[0]?.configValue).toBe(String(30 * 24 * 3600 * 1000));
  });

  it('ensures topics idempotently and grows, never shrinks, partitions', async () => {
    await admin.connect();
    const spec: TopicSpec = {
      name: unique('ensure'),
      partitions: 2,
      retentionMs: 60_000,
      cleanupPolicy: 'delete',
      schema: 'AuditRecord',
    };
    expect((await ensureTopics(admin, [spec])).created).toEqual([spec.name]);
    const again = await ensureTopics(admin, [spec]);
    expect(again).toEqual({ created: [], existing: [spec.name], grown: [] });
    expect((await ensureTopics(admin, [{ ...spec, partitions: 4 }])).grown).toEqual([spec.name]);
    expect((await ensureTopics(admin, [{ ...spec, partitions: 1 }])).grown).toEqual([]);
    const { topics } = await admin.fetchTopicMetadata({ topics: [spec.name] });
    expect(topics[0]?.partitions).toHaveLength(4);
  });

  it('creates topics as durable as the cluster allows: replication, min ISR and no unclean election from its size', async () => {
    await admin.connect();
    const name = unique('durable');
    await ensureTopics(admin, [
      { name, partitions: 1, retentionMs: 60_000, cleanupPolicy: 'delete', schema: 'AuditRecord' },
    ]);
    const want = topicDurability((await admin.describeCluster()).brokers.length);
    const { topics } = await admin.fetchTopicMetadata({ topics: [name] });
    expect(topics[0]?.partitions[0]?.replicas).toHaveLength(want.replicationFactor);
    const configs = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: 2, name, configNames: ['min.insync.replicas', 'unclean.leader.election.enable'] }],
    });
    const entries = Object.fromEntries(
      (configs.resources[0]?.configEntries ?? []).map((e) => [e.configName, e.configValue]),
    );
    expect(entries).toEqual({
      'min.insync.replicas': String(want.minInsyncReplicas),
      'unclean.leader.election.enable': 'false',
    });
  });

  it('refuses to auto-create a topic a producer writes to', async () => {
    await admin.connect();
    const name = unique('never-created');
    const producer = createProducer(kafka, { retry: { retries: 1, initialRetryTime: 50 } });
    await producer.connect();
    try {
      await expect(producer.send({ topic: name, messages: [{ value: 'x' }] })).rejects.toThrow();
    } finally {
      await producer.disconnect();
    }
    expect(await admin.listTopics()).not.toContain(name);
  });
});
