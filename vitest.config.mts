import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['__test__/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Network tests bind real sockets; two cores: do not oversubscribe them.
    maxWorkers: 2,
  },
});
