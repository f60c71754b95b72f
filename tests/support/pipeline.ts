// A whole booking flow for one test file, in-process, on the real Kafka, registry and Redis:
// the provider mock on an ephemeral port, intake and provider-dispatch, on topics and consumer
// groups of its own. Logs are captured so tests can assert what an operator would see.
import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { auditConfigSchema, createAudit } from '@booking/audit';
import { compensationConfigSchema, createCompensation } from '@booking/compensation';
import { createIntake, intakeConfigSchema } from '@booking/intake';
import {
  AvroSerde,
  checkInvariants,
  createLogger,
  createSchemaRegistry,
  ensureTopics,
  gatherInvariantInput,
  loadConfig,
  loadServiceConfig,
  ProviderClient,
  registerSchemas,
  retryTopicNames,
  SHADOW_TOPIC_SUFFIX,
  type TopicSpec,
  topicNames,
} from '@booking/kit';
import { createDispatch, dispatchConfigSchema } from '@booking/provider-dispatch';
import { type Booking, buildMockApp, type CallRecord, type MockOptions } from '@booking/provider-mock';
import { createReconciler, reconcilerConfigSchema } from '@booking/reconciler';
import type { DeadLetter } from '@booking/schemas';
import { kafkaClient, redisClient, stack, unique, waitFor } from './helpers.js';
import { TEST_PII } from './test-data.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface PipelineOptions {
  dispatch?: Record<string, string>;
  intake?: Record<string, string>;
  reconciler?: Record<string, string>;
  mock?: Partial<Omit<MockOptions, 'token'>>;
  retryDelaysMs?: number[];
  /** Another Redis than the stack's (the Redis-restart test runs its own). */
  redisUrl?: string;
  /** Leave provider-dispatch out: the test runs it as a child process (dispatchEnv). */
  externalDispatch?: boolean;
  /** Leave compensation out: the test runs it as a child process (compensationEnv). */
  externalCompensation?: boolean;
  /**
   * Every service in SHADOW_MODE, configured through loadServiceConfig as a deployment is: `.shadow`
   * topics, `shadow.` groups, a Redis database of its own; the mock is its sandbox, and the
   * production provider named here is what it must refuse (and never call).
   */
  shadow?: { productionUrl: string; productionToken: string };
}

export interface AppointmentView {
  appointmentId: string;
  state: string;
  attempts: number;
  bookingId: string | null;
  history: { from: string | null; to: string; at: string; reason: string | null }[];
}

export const API_KEY = `it-key-${randomUUID()}`;
export const TOKEN = `it-token-${randomUUID()}`;

/** Keeps a service's log lines in memory for assertions, and writes them to logs/tests/ for the PII scan. */
function capture(file?: string) {
  const lines: Record<string, unknown>[] = [];
  if (file) mkdirSync(dirname(file), { recursive: true });
  const destination = new Writable({
    write(chunk, _enc, done) {
      if (file) appendFileSync(file, chunk);
      for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l));
      done();
    },
  });
  return { lines, destination };
}

/** The same Redis server, another database (a shadow's). */
function otherDatabase(url: string, db: number): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

export async function startPipeline(name: string, opts: PipelineOptions = {}) {
  const s = stack();
  const prefix = unique(name);
  const retryDelaysMs = opts.retryDelaysMs ?? [300, 1200];
  // The names a service derives from TOPIC_PREFIX, so a service run as a child process agrees.
  const topics = topicNames(`${prefix}.`, opts.shadow ? SHADOW_TOPIC_SUFFIX : '');
  const redisUrl = opts.shadow ? otherDatabase(s.redisUrl, 1) : (opts.redisUrl ?? s.redisUrl);
  // A shadow's configuration goes through the same guard and renaming as a shadow deployment's.
  const config: typeof loadConfig = (schema, env) =>
    opts.shadow ? loadServiceConfig(schema, env).config : loadConfig(schema, env);
  const projectionPrefix = `${prefix}:apt:`;
  const auditLogPath = join(ROOT, 'logs', 'tests', `${prefix}.audit.jsonl`);
  const spec = (n: string, schema: TopicSpec['schema']): TopicSpec => ({
    name: n,
    partitions: 3,
    retentionMs: 3_600_000,
    cleanupPolicy: 'delete',
    schema,
  });
  const specs = [
    spec(topics.inbound, 'InboundRequest'),
    spec(topics.requested, 'AppointmentRequested'),
    ...retryTopicNames(topics.requested, retryDelaysMs).map((t) => spec(t, 'AppointmentRequested')),
    spec(topics.pending, 'ProviderPoll'),
    spec(topics.lifecycle, 'LifecycleTransition'),
    spec(topics.dlt, 'DeadLetter'),
    spec(topics.audit, 'AuditRecord'),
    spec(topics.compensation, 'CompensationCommand'),
    ...retryTopicNames(topics.compensation, retryDelaysMs).map((t) => spec(t, 'CompensationCommand')),
    spec(topics.compensationDlt, 'DeadLetter'),
    spec(topics.reconciliation, 'ReconciliationOutcome'),
  ];
  const kafka = kafkaClient();
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, specs);
  await admin.disconnect();
  await registerSchemas(new AvroSerde(createSchemaRegistry(s.schemaRegistryUrl)), specs);

  const mock = buildMockApp({
    token: TOKEN,
    pendingMs: 400,
    pendingRetryAfterMs: 100,
    delayMs: 1500,
    retryAfterS: 1,
    ...opts.mock,
  });
  await mock.listen({ host: '127.0.0.1', port: 0 });
  const mockUrl = `http://127.0.0.1:${(mock.server.address() as { port: number }).port}`;

  const common = {
    KAFKA_BROKERS: s.kafkaBrokers,
    SCHEMA_REGISTRY_URL: s.schemaRegistryUrl,
    REDIS_URL: redisUrl,
    ...(opts.shadow
      ? {
          SHADOW_MODE: 'true',
          PRODUCTION_PROVIDER_URL: opts.shadow.productionUrl,
          PRODUCTION_PROVIDER_TOKEN: opts.shadow.productionToken,
          PRODUCTION_REDIS_URL: s.redisUrl,
        }
      : {}),
    LOG_LEVEL: 'info',
    RETRY_DELAYS_MS: retryDelaysMs.join(','),
    SHUTDOWN_TIMEOUT_MS: '5000',
  };
  const intakeLogs = capture(join(ROOT, 'logs', 'tests', `${prefix}.intake.log`));
  const dispatchLogs = capture(join(ROOT, 'logs', 'tests', `${prefix}.dispatch.log`));
  const intakeEnv: Record<string, string> = {
    ...common,
    INTAKE_HTTP_PORT: '0',
    INTAKE_API_KEYS: API_KEY,
    GROUP_PREFIX: `${prefix}.intake`,
    PROJECTION_PREFIX: projectionPrefix,
    TOPIC_PREFIX: `${prefix}.`,
    ...opts.intake,
  };
  const intake = createIntake(config(intakeConfigSchema, intakeEnv), {
    topics,
    logger: createLogger({ service: 'intake', level: 'debug', destination: intakeLogs.destination }),
  });
  const dispatchEnv: Record<string, string> = {
    ...common,
    PROVIDER_URL: mockUrl,
    PROVIDER_TOKEN: TOKEN,
    PROVIDER_TIMEOUT_MS: '500',
    MAX_ATTEMPTS: '3',
    CIRCUIT_MIN_CALLS: '1000',
    CIRCUIT_WINDOW: '1000',
    PENDING_POLL_MIN_MS: '100',
    DUPLICATE_CHECK_AFTER_MS: '2000',
    DISPATCH_HTTP_PORT: '0',
    GROUP_PREFIX: `${prefix}.dispatch`,
    TOPIC_PREFIX: `${prefix}.`,
    ...opts.dispatch,
  };
  const dispatch = opts.externalDispatch
    ? undefined
    : createDispatch(config(dispatchConfigSchema, dispatchEnv), {
        topics,
        logger: createLogger({
          service: 'provider-dispatch',
          level: 'debug',
          destination: dispatchLogs.destination,
        }),
      });
  const auditLogs = capture(join(ROOT, 'logs', 'tests', `${prefix}.audit.log`));
  const audit = createAudit(
    config(auditConfigSchema, {
      ...common,
      AUDIT_HTTP_PORT: '0',
      AUDIT_LOG_PATH: auditLogPath,
      PROJECTION_PREFIX: projectionPrefix,
      GROUP_PREFIX: `${prefix}.audit`,
      PROVIDER_URL: mockUrl,
      PROVIDER_TOKEN: TOKEN,
      PROVIDER_LEDGER_URL: `${mockUrl}/__mock/ledger`,
      INVARIANTS_REPORT_PATH: join(ROOT, 'logs', 'tests', `${prefix}.invariants.json`),
    }),
    {
      topics,
      logger: createLogger({ service: 'audit', level: 'debug', destination: auditLogs.destination }),
    },
  );
  const compensationLogs = capture(join(ROOT, 'logs', 'tests', `${prefix}.compensation.log`));
  const compensationEnv: Record<string, string> = {
    ...common,
    PROVIDER_URL: mockUrl,
    PROVIDER_TOKEN: TOKEN,
    MAX_ATTEMPTS: '3',
    COMPENSATION_HTTP_PORT: '0',
    GROUP_PREFIX: `${prefix}.compensation`,
    TOPIC_PREFIX: `${prefix}.`,
  };
  const compensation = opts.externalCompensation
    ? undefined
    : createCompensation(config(compensationConfigSchema, compensationEnv), {
        topics,
        logger: createLogger({
          service: 'compensation',
          level: 'debug',
          destination: compensationLogs.destination,
        }),
      });
  const reconcilerLogs = capture(join(ROOT, 'logs', 'tests', `${prefix}.reconciler.log`));
  const reconciler = createReconciler(
    config(reconcilerConfigSchema, {
      ...common,
      PROVIDER_URL: mockUrl,
      PROVIDER_TOKEN: TOKEN,
      RECONCILER_HTTP_PORT: '0',
      PROJECTION_PREFIX: projectionPrefix,
      SWEEP_INTERVAL_MS: '0',
      // Longer than the 500 ms provider timeout plus a loaded mock's backlog (a create landed 2.3 s
      // after its attempt timed out in the rebalance test), shorter than the production 10 s.
      LATE_CREATE_WINDOW_MS: '5000',
      GROUP_PREFIX: `${prefix}.reconciler`,
      ...opts.reconciler,
    }),
    {
      topics,
      logger: createLogger({
        service: 'reconciler',
        level: 'debug',
        destination: reconcilerLogs.destination,
      }),
    },
  );
  const [intakeUrl, dispatchUrl, auditUrl, compensationUrl, reconcilerUrl] = await Promise.all([
    intake.start(),
    dispatch ? dispatch.start() : Promise.resolve(''),
    audit.start(),
    compensation ? compensation.start() : Promise.resolve(''),
    reconciler.start(),
  ]);

  /** Appointment ids this pipeline's clients were answered 202 for (`submit`, or `acknowledge`). */
  const acknowledged = new Set<string>();
  const checkKafka = kafkaClient();
  const checkSerde = new AvroSerde(createSchemaRegistry(s.schemaRegistryUrl));

  /**
   * The invariant report for this pipeline's appointments (projection, provider, ledger, audit
   * trail), and every acknowledged acceptance found on the topics (issue 20).
   */
  const checkInvariantsNow = async () => {
    const redis = redisClient(redisUrl);
    try {
      return checkInvariants(
        await gatherInvariantInput({
          redis,
          provider: new ProviderClient({ baseUrl: mockUrl, token: TOKEN, timeoutMs: 5000 }),
          projectionPrefix,
          auditLogPath,
          ledgerUrl: `${mockUrl}/__mock/ledger`,
          ...(acknowledged.size > 0
            ? {
                acceptances: {
                  acknowledged: [...acknowledged],
                  kafka: checkKafka,
                  serde: checkSerde,
                  requestedTopic: topics.requested,
                  lifecycleTopic: topics.lifecycle,
                },
              }
            : {}),
        }),
      );
    } finally {
      redis.disconnect();
    }
  };

  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${intakeUrl}${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${API_KEY}`,
        'content-type': 'application/json',
        ...(init.headers ?? {}),
      },
    });

  const pipeline = {
    /** Every topic and consumer group of this pipeline starts with it. */
    prefix,
    topics,
    intake,
    dispatch,
    /** Another intake of this pipeline can run as a child process with it (set INTAKE_HTTP_PORT). */
    intakeEnv,
    dispatchEnv,
    compensationEnv,
    mockUrl,
    intakeUrl,
    dispatchUrl,
    auditUrl,
    compensationUrl,
    reconcilerUrl,
    /** Every service's /healthz, by name. */
    healthUrls: {
      intake: `${intakeUrl}/healthz`,
      'provider-dispatch': `${dispatchUrl}/healthz`,
      audit: `${auditUrl}/healthz`,
      compensation: `${compensationUrl}/healthz`,
      reconciler: `${reconcilerUrl}/healthz`,
    },
    auditLogPath,
    projectionPrefix,
    reconciler,
    logs: {
      intake: intakeLogs.lines,
      dispatch: dispatchLogs.lines,
      audit: auditLogs.lines,
      compensation: compensationLogs.lines,
      reconciler: reconcilerLogs.lines,
    },
    /** The audit trail's lines so far. */
    auditTrail: (): Record<string, unknown>[] => {
      try {
        return readFileSync(auditLogPath, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Record<string, unknown>);
      } catch {
        return [];
      }
    },
    api,
    acknowledged,
    /** POST /v1/appointments; a 202's appointment id joins `acknowledged` (the checker's rule 7). */
    submit: async (body: unknown, key: string) => {
      const res = await api('/v1/appointments', {
        method: 'POST',
        body: JSON.stringify(body),
        headers: { 'idempotency-key': key },
      });
      if (res.status === 202) {
        const { appointmentId } = (await res.clone().json()) as { appointmentId?: string };
        if (appointmentId) acknowledged.add(appointmentId);
      }
      return res;
    },
    view: async (id: string): Promise<AppointmentView | null> => {
      const res = await api(`/v1/appointments/${id}`);
      return res.status === 200 ? ((await res.json()) as AppointmentView) : null;
    },
    /** Waits, within a bound, until the appointment is in `state`. */
    waitForState: (id: string, state: string, boundMs = 20_000) =>
      waitFor(
        `${id} to reach ${state}`,
        async () => {
          const res = await api(`/v1/appointments/${id}`);
          if (res.status !== 200) return null;
          const v = (await res.json()) as AppointmentView;
          return v.state === state ? v : null;
        },
        boundMs,
      ),
    ledger: async (externalRef?: string): Promise<Booking[]> => {
      const all = ((await (await fetch(`${mockUrl}/__mock/ledger`)).json()) as { bookings: Booking[] })
        .bookings;
      return externalRef ? all.filter((b) => b.externalRef === externalRef) : all;
    },
    calls: async (filter: Partial<CallRecord> = {}): Promise<CallRecord[]> => {
      const all = ((await (await fetch(`${mockUrl}/__mock/calls`)).json()) as { calls: CallRecord[] }).calls;
      return all.filter((c) =>
        Object.entries(filter).every(([k, v]) => (c as unknown as Record<string, unknown>)[k] === v),
      );
    },
    /** externalRefs for which the provider holds more than one live (not cancelled/rejected) booking. */
    doubleBooked: async (): Promise<string[]> => {
      const all = ((await (await fetch(`${mockUrl}/__mock/ledger`)).json()) as { bookings: Booking[] })
        .bookings;
      const live = new Map<string, number>();
      for (const b of all)
        if (b.status === 'CONFIRMED' || b.status === 'PENDING')
          live.set(b.externalRef, (live.get(b.externalRef) ?? 0) + 1);
      return [...live].filter(([, n]) => n > 1).map(([ref]) => ref);
    },
    /** Books straight at the provider, as a booking made outside the pipeline's knowledge would be. */
    bookDirectly: async (externalRef: string, calendarId: string): Promise<string> => {
      const res = await fetch(`${mockUrl}/api/v2/appointments`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          externalRef,
          calendarId,
          slot: requestBody(calendarId).slot,
          patient: { ref: 'p', displayName: 'P' },
        }),
      });
      return ((await res.json()) as { bookingId: string }).bookingId;
    },
    /** The invariant report for this pipeline's appointments (projection, provider, ledger, audit trail). */
    invariants: checkInvariantsNow,
    /** Waits, within a bound, until every invariant holds; on timeout names the ones that do not. */
    invariantsHold: async (boundMs = 20_000) => {
      const check = checkInvariantsNow;
      return waitFor(
        'the invariants to hold',
        async () => {
          const r = await check();
          return r.passed ? r : null;
        },
        boundMs,
      ).catch(async (err: unknown) => {
        const failing = (await check()).invariants.filter((i) => !i.passed);
        // The first few appointments named, with what the projection and the provider hold.
        const ids = failing.flatMap((i) => i.appointmentIds ?? []).slice(0, 3);
        const detail = await Promise.all(
          ids.map(async (id) => ({ id, view: await pipeline.view(id), ledger: await pipeline.ledger(id) })),
        );
        throw new Error(
          `${(err as Error).message}\n${JSON.stringify(failing, null, 1)}\n${JSON.stringify(detail, null, 1)}`,
        );
      });
    },
    metrics: async () => (await fetch(`${dispatchUrl}/metrics`)).text(),
    intakeMetrics: async () => (await fetch(`${intakeUrl}/metrics`)).text(),
    async stop() {
      await Promise.all([
        intake.stop(),
        dispatch?.stop(),
        audit.stop(),
        compensation?.stop(),
        reconciler.stop(),
      ]);
      await mock.close();
    },
  };
  return pipeline;
}

export type Pipeline = Awaited<ReturnType<typeof startPipeline>>;

/** A valid request body for a calendar; the slot is tomorrow, 30 minutes. */
export function requestBody(calendarId: string, overrides: Record<string, unknown> = {}) {
  const start = new Date(Date.now() + 24 * 3600_000);
  start.setUTCSeconds(0, 0);
  const end = new Date(start.getTime() + 30 * 60_000);
  return {
    patient: {
      id: `p-${randomUUID().slice(0, 8)}`,
      name: TEST_PII.names[0],
      phone: TEST_PII.phones[0],
      email: TEST_PII.emails[0],
    },
    calendarId,
    slot: {
      start: start.toISOString().replace('.000Z', 'Z'),
      end: end.toISOString().replace('.000Z', 'Z'),
      timezone: 'Europe/London',
    },
    reason: 'check-up',
    ...overrides,
  };
}

/** A dead letter as dispatch writes it for an appointment whose attempts are spent. */
export function deadLetterFixture(
  appointmentId: string,
  deadline: number | null,
  requestedTopic: string,
  firstSeenAt = Date.now(),
): DeadLetter {
  return {
    appointmentId,
    reason: 'RETRIES_EXHAUSTED',
    errorClass: 'PROVIDER_503',
    errorMessage: 'test',
    fieldErrors: [],
    originalTopic: requestedTopic,
    originalPartition: 0,
    originalOffset: 0,
    originalKey: null,
    originalValue: null,
    originalHeaders: {},
    attempts: 5,
    firstSeenAt,
    deadLetteredAt: Date.now(),
    deadline,
    correlationId: `c-${appointmentId}`,
  };
}
