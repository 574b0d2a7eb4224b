/**
 * Imported first by the CLI and the benchmarks, before any module loads graphql: graphql-js
 * reads NODE_ENV once, at load, and outside production runs a development-mode `instanceOf`
 * check on every type lookup (about a quarter of the throughput of cached queries). An
 * explicit NODE_ENV (tests, a developer's shell) is kept.
 */
process.env.NODE_ENV ??= 'production';

export {};
