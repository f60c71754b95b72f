// The registry's state, rebuilt at start from a compacted Kafka topic (the journal) and appended
// to on every change, in the manner of Confluent's `_schemas` topic. One writer at a time.
import type { Admin, Kafka, Producer } from 'kafkajs';
import type { CompatibilityLevel } from './compatibility.js';

export interface SchemaVersion {
  subject: string;
  version: number;
  id: number;
  schema: string;
}

type JournalKey =
  | { keytype: 'SCHEMA'; subject: string; version: number }
  | { keytype: 'CONFIG'; subject: string | null };
type JournalValue = SchemaVersion | { compatibilityLevel: CompatibilityLevel };

/** Canonical text of a schema: same JSON, same identity, whatever the whitespace. */
export function canonical(schema: string): string {
  return JSON.stringify(JSON.parse(schema));
}

export class RegistryState {
  readonly subjects = new Map<string, SchemaVersion[]>();
  readonly byId = new Map<number, string>();
  readonly idBySchema = new Map<string, number>();
  readonly subjectLevels = new Map<string, CompatibilityLevel>();
  globalLevel: CompatibilityLevel = 'BACKWARD';

  apply(key: JournalKey, value: JournalValue | null): void {
    if (key.keytype === 'CONFIG') {
      if (value === null || !('compatibilityLevel' in value)) {
        if (key.subject !== null) this.subjectLevels.delete(key.subject);
        return;
      }
      if (key.subject === null) this.globalLevel = value.compatibilityLevel;
      else this.subjectLevels.set(key.subject, value.compatibilityLevel);
      return;
    }
    if (value === null || !('schema' in value)) return;
    const versions = this.subjects.get(value.subject) ?? [];
    if (!versions.some((v) => v.version === value.version)) {
      versions.push(value);
      versions.sort((a, b) => a.version - b.version);
      this.subjects.set(value.subject, versions);
    }
    this.byId.set(value.id, value.schema);
    this.idBySchema.set(value.schema, value.id);
  }

  nextId(): number {
    let max = 0;
    for (const id of this.byId.keys()) max = Math.max(max, id);
    return max + 1;
  }
}

export class KafkaJournal {
  private producer: Producer | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly topic: string,
  ) {}

  /** Creates the compacted journal topic if missing (explicitly: never broker auto-create). */
  async ensureTopic(admin: Admin): Promise<void> {
    const brokers = (await admin.describeCluster()).brokers.length;
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        {
          topic: this.topic,
          numPartitions: 1,
          // As every topic of the project: 3 copies from three brokers up, 2 in sync for a write.
          replicationFactor: Math.min(3, brokers),
          configEntries: [
            { name: 'cleanup.policy', value: 'compact' },
            { name: 'min.insync.replicas', value: brokers >= 3 ? '2' : '1' },
            { name: 'unclean.leader.election.enable', value: 'false' },
          ],
        },
      ],
    });
  }

  /** Replays the whole journal into `state`; resolves when the end offset known at start is reached. */
  async load(admin: Admin, state: RegistryState): Promise<number> {
    const [offsets] = await admin.fetchTopicOffsets(this.topic);
    const high = Number(offsets?.high ?? 0);
    const low = Number(offsets?.low ?? 0);
    if (high <= low) return 0;
    const consumer = this.kafka.consumer({ groupId: `${this.topic}.loader`, readUncommitted: false });
    await consumer.connect();
    await consumer.subscribe({ topic: this.topic, fromBeginning: true });
    let applied = 0;
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ message }) => {
            if (message.key) {
              const key = JSON.parse(message.key.toString()) as JournalKey;
              const value = message.value ? (JSON.parse(message.value.toString()) as JournalValue) : null;
              state.apply(key, value);
              applied++;
            }
            if (Number(message.offset) >= high - 1) resolve();
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();
    return applied;
  }

  async append(key: JournalKey, value: JournalValue): Promise<void> {
    if (!this.producer) {
      this.producer = this.kafka.producer({ idempotent: true, allowAutoTopicCreation: false });
      await this.producer.connect();
    }
    await this.producer.send({
      topic: this.topic,
      acks: -1,
      messages: [{ key: JSON.stringify(key), value: JSON.stringify(value) }],
    });
  }

  async close(): Promise<void> {
    await this.producer?.disconnect();
  }
}
