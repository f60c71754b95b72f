// The personal data the tests send. The PII scan (tests/after) looks for exactly these.
export const TEST_PII = {
  names: ['Ada Lovelace', 'Grace Hopper'],
  phones: ['+447700900123', '+15550100'],
  emails: ['ada@example.org', 'grace@example.org'],
} as const;
