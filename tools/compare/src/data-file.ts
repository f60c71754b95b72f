// The test-data format (data/test_data.json) and the expectation files, validated on load so a
// user's own file gets one clear message per problem. Format described in docs/comparison.md.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';

const clientPolicy = z.strictObject({
  /** The client gives up on one attempt after this long. */
  timeoutMs: z.number().int().positive(),
  /** How many times the client sends again after a timeout, a network error or a 5xx. */
  retries: z.number().int().min(0).max(10),
  /** The first pause before a retry; doubled each time. */
  backoffMs: z.number().int().min(0),
});
export type ClientPolicy = z.infer<typeof clientPolicy>;

const range = z.strictObject({ min: z.number().int().min(0), max: z.number().int().min(0) });
const count = z.union([z.number().int().min(0), range]);
export type Count = z.infer<typeof count>;

/** A sent request's final answer: an HTTP status, or what happened instead. */
export const responseOutcome = z.union([z.number().int(), z.enum(['timeout', 'network'])]);
export type ResponseOutcome = z.infer<typeof responseOutcome>;

export const expectation = z.strictObject({
  state: z.string().min(1).optional(),
  /** Live (CONFIRMED or PENDING) bookings at the provider for the case's calendar. */
  bookings: count.optional(),
  duplicate_bookings: count.optional(),
  ghost_bookings: count.optional(),
  provider_creates: count.optional(),
  provider_calls: count.optional(),
  retries: count.optional(),
  crashes: count.optional(),
  dlt: z.boolean().optional(),
  compensated: z.boolean().optional(),
  /** Each send's final answer, in send order (concurrent sends: compared as a multiset). */
  responses: z.array(responseOutcome).optional(),
  /** The idempotency assertion must pass. */
  idempotency: z.boolean().optional(),
  note: z.string().optional(),
});
export type Expectation = z.infer<typeof expectation>;

const testCase = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_-]{1,16}$/, '1-16 of A-Z a-z 0-9 _ -'),
  scenario: z.string().min(1).max(64),
  description: z.string().optional(),
  request: z
    .strictObject({
      headers: z.record(z.string(), z.string()).default({}),
      body: z.unknown().optional(),
      /** Sent as it is (after placeholders), for bodies that are not JSON. */
      rawBody: z.string().optional(),
    })
    .refine((r) => (r.body === undefined) !== (r.rawBody === undefined), {
      message: 'exactly one of body and rawBody',
    }),
  send: z
    .strictObject({
      times: z.number().int().min(1).max(100).default(1),
      mode: z.enum(['sequential', 'concurrent']).default('sequential'),
      /** Per send (by index): fields merged into the body for that send only; null = unchanged. */
      patches: z.array(z.record(z.string(), z.unknown()).nullable()).optional(),
    })
    .default({ times: 1, mode: 'sequential' }),
  client: clientPolicy.partial().optional(),
  expect: expectation.optional(),
});
export type TestCase = z.infer<typeof testCase>;

export const testDataFile = z
  .strictObject({
    $comment: z.string().optional(),
    version: z.literal(1),
    client: clientPolicy.default({ timeoutMs: 2000, retries: 2, backoffMs: 500 }),
    load: z
      .strictObject({
        concurrency: z.number().int().min(1).max(1000).default(32),
        /** Case id -> weight. Missing: every case weighs the same. */
        mix: z.record(z.string(), z.number().min(0)).optional(),
      })
      .default({ concurrency: 32 }),
    cases: z.array(testCase).min(1),
  })
  .superRefine((file, ctx) => {
    const seen = new Set<string>();
    file.cases.forEach((c, i) => {
      if (seen.has(c.id))
        ctx.addIssue({ code: 'custom', path: ['cases', i, 'id'], message: `duplicate id ${c.id}` });
      seen.add(c.id);
    });
    for (const id of Object.keys(file.load.mix ?? {})) {
      if (!seen.has(id))
        ctx.addIssue({ code: 'custom', path: ['load', 'mix', id], message: 'no case has this id' });
    }
  });
export type TestDataFile = z.infer<typeof testDataFile>;

export const expectationFile = z.strictObject({
  $comment: z.string().optional(),
  project: z.enum(['A', 'B']),
  cases: z.record(z.string(), expectation),
});
export type ExpectationFile = z.infer<typeof expectationFile>;

export class DataFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file}: ${problems.length} problem(s)\n  - ${problems.join('\n  - ')}`);
    this.name = 'DataFileError';
  }
}

function problemsOf(error: z.ZodError): string[] {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(file)'}: ${i.message}`);
}

export function parseWith<T>(schema: z.ZodType<T>, text: string, file: string): T {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new DataFileError(file, [`not JSON: ${(err as Error).message}`]);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new DataFileError(file, problemsOf(parsed.error));
  return parsed.data;
}

export async function loadTestData(file: string): Promise<TestDataFile> {
  return parseWith(testDataFile, await readFile(file, 'utf8'), file);
}

export async function loadExpectations(file: string): Promise<ExpectationFile> {
  return parseWith(expectationFile, await readFile(file, 'utf8'), file);
}
