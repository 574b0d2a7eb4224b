import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // PGlite and the sandboxes are heavy; two cores here.
    pool: 'forks',
    maxWorkers: 2,
  },
});
