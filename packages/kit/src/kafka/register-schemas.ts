// Registers every topic's value schema under `<topic>-value` with compatibility BACKWARD.
import { SCHEMAS } from '@booking/schemas';
import type { TopicSpec } from '../topics.js';
import { subjectOf } from '../topics.js';
import type { AvroSerde } from './serde.js';

export interface RegisteredSubject {
  subject: string;
  id: number;
}

export async function registerSchemas(
  serde: AvroSerde,
  specs: readonly TopicSpec[],
): Promise<RegisteredSubject[]> {
  const out: RegisteredSubject[] = [];
  for (const spec of specs) {
    out.push({ subject: subjectOf(spec.name), id: await serde.register(spec.name, SCHEMAS[spec.schema]) });
  }
  return out;
}
