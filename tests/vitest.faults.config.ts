import { defineConfig } from 'vitest/config';

// Tests that kill a part of the shared stack (the broker): run alone, after the integration suite
// (run_tests.sh), never beside tests that need the stack up.
export default defineConfig({
  test: {
    include: ['faults/**/*.test.ts'],
    globalSetup: ['./support/global-setup.ts'],
    environment: 'node',
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 300_000,
  },
});
