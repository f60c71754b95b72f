import { defineConfig } from 'vitest/config';

// The checks that run after the integration suite has written its logs (run_tests.sh).
export default defineConfig({ test: { include: ['after/**/*.test.ts'], environment: 'node' } });
