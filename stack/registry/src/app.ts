// The subset of the Confluent Schema Registry REST API that this project and
// @kafkajs/confluent-schema-registry use, served under /apis/ccompat/v7 (Apicurio's path),
// so SCHEMA_REGISTRY_URL is the same whichever registry runs. LOCAL-ONLY: see docs/stack.md.
import { timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { type CompatibilityLevel, checkCompatibility, isLevel, parseAvro } from './compatibility.js';
import { canonical, type KafkaJournal, type RegistryState, type SchemaVersion } from './store.js';

export const PREFIX = '/apis/ccompat/v7';
const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

interface Deps {
  state: RegistryState;
  journal: Pick<KafkaJournal, 'append'>;
  logger?: boolean | object;
  /** When set, every request needs these credentials (HTTP basic auth), as a secured registry does. */
  basicAuth?: { username: string; password: string };
}

/** Equal strings, compared in constant time (a credential check must not leak by timing). */
function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function fail(reply: FastifyReply, status: number, errorCode: number, message: string) {
  return reply.code(status).type(CONTENT_TYPE).send({ error_code: errorCode, message });
}

export function buildApp({ state, journal, logger = false, basicAuth }: Deps): FastifyInstance {
  const app = Fastify({ logger, bodyLimit: 4 * 1024 * 1024 });
  if (basicAuth) {
    const want = `Basic ${Buffer.from(`${basicAuth.username}:${basicAuth.password}`).toString('base64')}`;
    app.addHook('onRequest', async (req, reply) => {
      const got = req.headers.authorization;
      if (typeof got === 'string' && same(got, want)) return;
      reply.header('www-authenticate', 'Basic realm="schema-registry"');
      return fail(reply, 401, 40101, 'Unauthorized');
    });
  }
  app.addContentTypeParser(
    /^application\/(vnd\.schemaregistry(\.v1)?\+)?json/,
    { parseAs: 'string' },
    app.getDefaultJsonParser('error', 'error'),
  );
  app.addHook('onSend', async (_req, reply, payload) => {
    if (
      !reply.hasHeader('content-type') ||
      String(reply.getHeader('content-type')).startsWith('application/json')
    ) {
      reply.type(CONTENT_TYPE);
    }
    return payload;
  });

  // Writes are serialised: ids and version numbers are assigned from the state one at a time.
  let writes: Promise<unknown> = Promise.resolve();
  const serialised = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = writes.then(fn, fn);
    writes = next.catch(() => undefined);
    return next;
  };

  const levelOf = (subject: string): CompatibilityLevel =>
    state.subjectLevels.get(subject) ?? state.globalLevel;

  const findVersion = (subject: string, version: string): SchemaVersion | undefined => {
    const versions = state.subjects.get(subject) ?? [];
    if (version === 'latest' || version === '-1') return versions.at(-1);
    return versions.find((v) => v.version === Number(version));
  };

  const validSchema = (schema: unknown): string | null => {
    if (typeof schema !== 'string') return null;
    try {
      parseAvro(schema);
      return canonical(schema);
    } catch {
      return null;
    }
  };

  app.get('/', async () => ({ registry: 'local-only Confluent-compatible subset', ccompat: PREFIX }));

  app.register(
    async (r) => {
      r.get('/schemas/types', async () => ['AVRO']);

      r.get<{ Params: { id: string } }>('/schemas/ids/:id', async (req, reply) => {
        const schema = state.byId.get(Number(req.params.id));
        if (!schema) return fail(reply, 404, 40403, `Schema ${req.params.id} not found`);
        return { schema };
      });

      r.get('/subjects', async () => [...state.subjects.keys()].sort());

      r.get<{ Params: { subject: string } }>('/subjects/:subject/versions', async (req, reply) => {
        const versions = state.subjects.get(req.params.subject);
        if (!versions) return fail(reply, 404, 40401, `Subject '${req.params.subject}' not found.`);
        return versions.map((v) => v.version);
      });

      r.get<{ Params: { subject: string; version: string } }>(
        '/subjects/:subject/versions/:version',
        async (req, reply) => {
          const { subject, version } = req.params;
          if (!state.subjects.has(subject)) return fail(reply, 404, 40401, `Subject '${subject}' not found.`);
          const found = findVersion(subject, version);
          if (!found) return fail(reply, 404, 40402, `Version ${version} not found.`);
          return found;
        },
      );

      // Look a schema up under a subject.
      r.post<{ Params: { subject: string }; Body: { schema?: unknown } }>(
        '/subjects/:subject',
        async (req, reply) => {
          const { subject } = req.params;
          const versions = state.subjects.get(subject);
          if (!versions) return fail(reply, 404, 40401, `Subject '${subject}' not found.`);
          const schema = validSchema(req.body?.schema);
          if (!schema) return fail(reply, 422, 42201, 'Invalid schema');
          const found = versions.find((v) => v.schema === schema);
          if (!found) return fail(reply, 404, 40403, 'Schema not found');
          return found;
        },
      );

      r.post<{ Params: { subject: string }; Body: { schema?: unknown; schemaType?: string } }>(
        '/subjects/:subject/versions',
        async (req, reply) => {
          const { subject } = req.params;
          if (req.body?.schemaType && req.body.schemaType !== 'AVRO') {
            return fail(reply, 422, 42201, `Only AVRO schemas are supported, not ${req.body.schemaType}`);
          }
          const schema = validSchema(req.body?.schema);
          if (!schema) return fail(reply, 422, 42201, 'Invalid schema: not a valid Avro schema');
          return serialised(async () => {
            const versions = state.subjects.get(subject) ?? [];
            const same = versions.find((v) => v.schema === schema);
            if (same) return { id: same.id };
            const problems = checkCompatibility(
              levelOf(subject),
              schema,
              versions.map((v) => v.schema),
            );
            if (problems.length > 0) {
              return fail(
                reply,
                409,
                409,
                `Schema being registered is incompatible with an earlier schema for subject "${subject}" (${levelOf(subject)}): ${problems.join('; ')}`,
              );
            }
            const record: SchemaVersion = {
              subject,
              version: (versions.at(-1)?.version ?? 0) + 1,
              id: state.idBySchema.get(schema) ?? state.nextId(),
              schema,
            };
            await journal.append({ keytype: 'SCHEMA', subject, version: record.version }, record);
            state.apply({ keytype: 'SCHEMA', subject, version: record.version }, record);
            req.log.info({ subject, version: record.version, id: record.id }, 'schema registered');
            return { id: record.id };
          });
        },
      );

      r.post<{ Params: { subject: string; version: string }; Body: { schema?: unknown } }>(
        '/compatibility/subjects/:subject/versions/:version',
        async (req, reply) => {
          const { subject, version } = req.params;
          const schema = validSchema(req.body?.schema);
          if (!schema) return fail(reply, 422, 42201, 'Invalid schema');
          const versions = state.subjects.get(subject) ?? [];
          const level = levelOf(subject);
          const existing = level.endsWith('_TRANSITIVE')
            ? versions.map((v) => v.schema)
            : [findVersion(subject, version)?.schema].filter((s): s is string => typeof s === 'string');
          const messages = checkCompatibility(level, schema, existing);
          return { is_compatible: messages.length === 0, messages };
        },
      );

      r.get('/config', async () => ({ compatibilityLevel: state.globalLevel }));
      r.put<{ Body: { compatibility?: unknown } }>('/config', async (req, reply) => {
        const level = req.body?.compatibility;
        if (!isLevel(level)) return fail(reply, 422, 42203, 'Invalid compatibility level');
        const upper = level.toUpperCase() as CompatibilityLevel;
        await serialised(async () => {
          await journal.append({ keytype: 'CONFIG', subject: null }, { compatibilityLevel: upper });
          state.apply({ keytype: 'CONFIG', subject: null }, { compatibilityLevel: upper });
        });
        return { compatibility: upper };
      });

      r.get<{ Params: { subject: string } }>('/config/:subject', async (req, reply) => {
        const level = state.subjectLevels.get(req.params.subject);
        if (!level) {
          return fail(
            reply,
            404,
            40408,
            `Subject '${req.params.subject}' does not have subject-level compatibility configured`,
          );
        }
        return { compatibilityLevel: level };
      });
      r.put<{ Params: { subject: string }; Body: { compatibility?: unknown } }>(
        '/config/:subject',
        async (req, reply) => {
          const level = req.body?.compatibility;
          if (!isLevel(level)) return fail(reply, 422, 42203, 'Invalid compatibility level');
          const upper = level.toUpperCase() as CompatibilityLevel;
          const key = { keytype: 'CONFIG' as const, subject: req.params.subject };
          await serialised(async () => {
            await journal.append(key, { compatibilityLevel: upper });
            state.apply(key, { compatibilityLevel: upper });
          });
          return { compatibility: upper };
        },
      );
    },
    { prefix: PREFIX },
  );
  return app;
}
