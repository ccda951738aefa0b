import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Integration tests share one Postgres database and one Redis; files run one at a time to keep
    // them from truncating each other's tables.
    fileParallelism: false,
  },
});
