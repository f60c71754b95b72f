// The registry enforces BACKWARD compatibility: an incompatible change to a contract is refused.
import { subjectOf, topicSpecs } from '@booking/kit';
import { SCHEMAS, type SchemaName } from '@booking/schemas';
import { describe, expect, it } from 'vitest';
import { serde, stack, unique } from '../support/helpers.js';

type RecordSchema = { fields: { name: string }[] } & Record<string, unknown>;

function withField(name: SchemaName, field: object): RecordSchema {
  const schema = structuredClone(SCHEMAS[name]) as unknown as RecordSchema;
  schema.fields = [...schema.fields, field as { name: string }];
  return schema;
}

async function compatible(subject: string, schema: object): Promise<boolean> {
  const res = await fetch(`${stack().schemaRegistryUrl}/compatibility/subjects/${subject}/versions/latest`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ schema: JSON.stringify(schema) }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { is_compatible: boolean }).is_compatible;
}

describe('schema evolution rules', () => {
  it.each(topicSpecs().filter((s) => !s.name.includes('.retry-')))(
    '$name-value is BACKWARD and refuses a new required field',
    async (spec) => {
      const subject = subjectOf(spec.name);
      const config = await fetch(`${stack().schemaRegistryUrl}/config/${subject}`);
      expect(((await config.json()) as { compatibilityLevel: string }).compatibilityLevel).toBe('BACKWARD');
      expect(
        await compatible(subject, withField(spec.schema, { name: 'addedWithoutDefault', type: 'string' })),
      ).toBe(false);
      expect(
        await compatible(
          subject,
          withField(spec.schema, { name: 'addedOptional', type: ['null', 'string'], default: null }),
        ),
      ).toBe(true);
    },
  );

  it('refuses to register an incompatible version and keeps serving the old one', async () => {
    const avro = serde();
    const topic = unique('compat');
    const v1 = await avro.register(topic, SCHEMAS.CompensationCommand);
    const err = await avro
      .register(topic, withField('CompensationCommand', { name: 'mandatory', type: 'long' }))
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'VALIDATION_FAILED' });
    const versions = await fetch(`${stack().schemaRegistryUrl}/subjects/${subjectOf(topic)}/versions`);
    expect(await versions.json()).toEqual([1]);

    const v2 = await avro.register(
      topic,
      withField('CompensationCommand', { name: 'note', type: ['null', 'string'], default: null }),
    );
    expect(v2).not.toBe(v1);
    const after = await fetch(`${stack().schemaRegistryUrl}/subjects/${subjectOf(topic)}/versions`);
    expect(await after.json()).toEqual([1, 2]);
  });

  it('gives the same id when the same schema is registered again', async () => {
    const avro = serde();
    const topic = unique('compat');
    const first = await avro.register(topic, SCHEMAS.AuditRecord);
    expect(await serde().register(topic, SCHEMAS.AuditRecord)).toBe(first);
  });
});
