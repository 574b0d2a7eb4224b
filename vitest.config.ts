import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // graphql 16 ships both an ESM and a CJS build; Vite would hand our files the ESM one
    // while type-graphql and Apollo (left to Node) get the CJS one, and two copies of
    // `graphql` break its instanceof checks. Pin everyone to the copy Node resolves.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // PGlite and the sandboxes are heavy; two cores here.
    pool: 'forks',
    maxWorkers: 2,
  },
});
