// Shared by the unit tests: a case result with every field, to override per test.
import type { CaseResult } from './outcome.js';

export const caseResult = (over: Partial<CaseResult> = {}): CaseResult => ({
  case_id: 'C01',
  scenario: 'immediate',
  expected_state: 'CONFIRMED',
  final_state: 'CONFIRMED',
  correct: true,
  latency_ms: 20,
  provider_calls: 1,
  provider_creates: 1,
  retries: 0,
  client_retries: 0,
  bookings: 1,
  duplicate_bookings: 0,
  ghost_bookings: 0,
  dlt: false,
  compensated: false,
  responses: [202],
  idempotency: { checked: false, passed: true },
  mismatches: [],
  ...over,
});
