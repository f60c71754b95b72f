// The consumed topics of a deployment, what each carries, and where its bad records must land.
import { retryTopicNames, type TopicKey } from '@booking/kit';
import type { SchemaName } from '@booking/schemas';
import type { FuzzTopic } from './fuzz.js';

export function consumedTopics(
  names: Record<TopicKey, string>,
  retryDelaysMs: readonly number[],
): FuzzTopic[] {
  const dlt = { dlt: names.dlt };
  const retried = (key: 'requested' | 'compensation', schema: SchemaName, lands: FuzzTopic['lands']) =>
    [names[key], ...retryTopicNames(names[key], retryDelaysMs)].map((name) => ({ name, schema, lands }));
  return [
    { name: names.inbound, schema: 'InboundRequest', lands: dlt },
    ...retried('requested', 'AppointmentRequested', dlt),
    { name: names.pending, schema: 'ProviderPoll', lands: dlt },
    ...retried('compensation', 'CompensationCommand', { dlt: names.compensationDlt }),
    // Audit reads these; a record it cannot read becomes an alert line in its trail.
    { name: names.lifecycle, schema: 'LifecycleTransition', lands: 'audit' },
    { name: names.dlt, schema: 'DeadLetter', lands: 'audit' },
    { name: names.audit, schema: 'AuditRecord', lands: 'audit' },
    { name: names.reconciliation, schema: 'ReconciliationOutcome', lands: 'audit' },
    { name: names.compensationDlt, schema: 'DeadLetter', lands: 'audit' },
  ];
}

/** For each topic, a topic of another schema to borrow a schema id from. */
export function foreignOf(names: Record<TopicKey, string>) {
  return (t: FuzzTopic) =>
    t.schema === 'ProviderPoll'
      ? { topic: names.lifecycle, schema: 'LifecycleTransition' as const }
      : { topic: names.pending, schema: 'ProviderPoll' as const };
}
