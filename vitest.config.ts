import { defineConfig } from 'vitest/config';

// Unit tests: pure logic plus the server against a real mediasoup worker.
// Browser end-to-end tests live in e2e/ with their own config.
export default defineConfig({
  test: {
    include: ['shared/test/**/*.test.ts', 'face/test/**/*.test.ts', 'server/test/**/*.test.ts', 'client/test/**/*.test.ts', 'models/data/**/*.test.ts', 'models/teacher/**/*.test.ts', 'models/eval/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
