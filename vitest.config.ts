import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Real servers (PostgreSQL, Dovecot) start per file; two cores cannot run many at once.
    maxWorkers: 2,
    minWorkers: 1,
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // Surface the summary line CI reads.
    reporters: ['default'],
  },
});
