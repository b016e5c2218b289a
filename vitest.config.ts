import { defineConfig } from 'vitest/config';

// Two cores on every machine here (developers and CI): two forked workers keep
// tests that run real servers from starving each other.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
