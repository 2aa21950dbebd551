import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // e2e tests start real processes and sockets; two cores are shared with them.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
