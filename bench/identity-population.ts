import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { parseConfig } from '../config/load-config.js';
import { openDatabase } from '../datasources/cache/database.js';
import { startSandbox } from '../sandbox/index.js';
import { runSyncCommand } from '../sync/sync-command.js';
import { evaluateLinks, formatEvaluation, readPatientLinks, type IdentityEvaluation } from './identity-eval.js';

// `node dist/bench/identity-population.js --patients 1000 [--db pglite|postgresql] [--base-port P]`:
// a sandbox population of N people (made from the fixtures, Patient resources only), then
// `chartgraph sync` of each source in turn through the CLI's own code, timed, then the link
// table scored against the sandbox's truth (bench/identity-eval.ts).

/** Options of {@link runIdentityPopulation}. */
export interface IdentityPopulationOptions {
  /** People in the sandbox population (`minPatients`). */
  patients: number;
  /** A fresh database of this kind is made and removed (default pglite), unless `databaseUrl` is given. */
  database?: 'pglite' | 'postgresql';
  /** An empty database to sync into (left in place afterwards). */
  databaseUrl?: string;
  /** PostgreSQL server on which a fresh database is created (default CHARTGRAPH_BENCH_PG_URL or the local test server). */
  postgresUrl?: string;
  /** Sandbox ports (see `startSandbox`); default random. */
  basePort?: number;
}

/** What one run measured. */
export interface IdentityPopulationResult {
  patients: number;
  database: string;
  sandboxStartMs: number;
  /** Wall time of `chartgraph sync --source <id>`, per source, in sync order. */
  syncMs: Array<{ sourceId: string; ms: number; exitCode: number }>;
  totalSyncMs: number;
  evaluation: IdentityEvaluation;
}

/**
 * Starts a sandbox of `patients` people (Patient resources only), runs `chartgraph sync`
 * for each source into a fresh database, and evaluates the links it made. Exit codes of
 * the syncs are returned, not thrown, so a failing source still shows its figures.
 */
export async function runIdentityPopulation(opts: IdentityPopulationOptions): Promise<IdentityPopulationResult> {
  const t0 = performance.now();
  const sandbox = await startSandbox({ minPatients: opts.patients, patientsOnly: true, basePort: opts.basePort });
  const sandboxStartMs = performance.now() - t0;
  const db = opts.databaseUrl ? { url: opts.databaseUrl, kind: opts.databaseUrl.startsWith('pglite:') ? 'pglite' : 'postgresql', dispose: async () => undefined } : await freshDatabase(opts);
  try {
    const config = parseConfig({
      server: { port: 0, logLevel: 'silent' },
      cache: { url: db.url },
      auth: { mode: 'dev' },
      sources: sandbox.sourcesConfig(),
    });
    // Migrate first, so that the timings are of the sync alone.
    await (await openDatabase(db.url)).close();
    const syncMs: IdentityPopulationResult['syncMs'] = [];
    for (const source of sandbox.sourcesConfig()) {
      const start = performance.now();
      const exitCode = await runSyncCommand(config, { source: source.id });
      syncMs.push({ sourceId: source.id, ms: performance.now() - start, exitCode });
    }
    const database = await openDatabase(db.url);
    let links;
    try {
      links = await readPatientLinks(database.prisma);
    } finally {
      await database.close();
    }
    return {
      patients: sandbox.truth.patients.length,
      database: db.kind,
      sandboxStartMs,
      syncMs,
      totalSyncMs: syncMs.reduce((n, s) => n + s.ms, 0),
      evaluation: evaluateLinks(sandbox.truth, links),
    };
  } finally {
    await sandbox.close();
    await db.dispose();
  }
}

async function freshDatabase(opts: IdentityPopulationOptions): Promise<{ url: string; kind: string; dispose(): Promise<void> }> {
  if ((opts.database ?? 'pglite') === 'pglite') {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'cg-identity-bench-'));
    return { url: `pglite:${dir}`, kind: 'pglite', dispose: () => rm(dir, { recursive: true, force: true }) };
  }
  const server = opts.postgresUrl ?? process.env.CHARTGRAPH_BENCH_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
  const name = `cg_bench_${randomBytes(6).toString('hex')}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: server });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(server);
  url.pathname = `/${name}`;
  return { url: url.toString(), kind: 'postgresql', dispose: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** The run as Markdown: timings, then the evaluation table. */
export function formatIdentityPopulation(r: IdentityPopulationResult): string {
  return [
    `### Identity at population scale: ${r.patients} people, ${r.database}`,
    '',
    '| step | time |',
    '|---|---|',
    `| sandbox start | ${seconds(r.sandboxStartMs)} |`,
    ...r.syncMs.map((s) => `| chartgraph sync --source ${s.sourceId}${s.exitCode ? ` (exit ${s.exitCode})` : ''} | ${seconds(s.ms)} |`),
    `| sync, all sources | ${seconds(r.totalSyncMs)} |`,
    '',
    formatEvaluation(r.evaluation, 'After sync'),
  ].join('\n');
}

function argValue(args: readonly string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const patients = Number(argValue(args, '--patients') ?? 1000);
  const database = argValue(args, '--db') ?? 'pglite';
  const basePort = argValue(args, '--base-port');
  if (!Number.isInteger(patients) || patients < 1 || (database !== 'pglite' && database !== 'postgresql')) {
    console.error('usage: identity-population [--patients N] [--db pglite|postgresql] [--base-port P]');
    process.exit(2);
  }
  const result = await runIdentityPopulation({ patients, database, ...(basePort && { basePort: Number(basePort) }) });
  console.log(formatIdentityPopulation(result));
  process.exit(result.syncMs.some((s) => s.exitCode !== 0) ? 1 : 0);
}
