import { defineConfig } from 'vitest/config';

// Browser end-to-end: real server, real Chromium. One file at a time, since
// each test drives several browsers on a 2-core machine.
export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 180_000,
    fileParallelism: false,
    pool: 'forks',
  },
});
