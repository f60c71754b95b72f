import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['integration/**/*.test.ts'],
    globalSetup: ['./support/global-setup.ts'],
    environment: 'node',
    pool: 'forks',
    maxWorkers: 2,
    // Bounds, not expectations: a test waits on conditions and fails when a bound passes.
    testTimeout: 60_000,
    hookTimeout: 300_000,
  },
});
