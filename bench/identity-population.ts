import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { pino } from 'pino';
import type { ChartgraphConfig } from '../config/config.schema.js';
import { parseConfig } from '../config/load-config.js';
import { openDatabase } from '../datasources/cache/database.js';
import { EHR_INFO, startSandbox, type EhrId, type Sandbox } from '../sandbox/index.js';
import { startGateway } from '../server/app.js';
import { mintDevToken } from '../server/auth.js';
import { runSyncCommand } from '../sync/sync-command.js';
import { evaluateLinks, formatEvaluation, readPatientLinks, type IdentityEvaluation } from './identity-eval.js';

// `node dist/bench/identity-population.js --patients 1000 [--db pglite|postgresql] [--base-port P] [--lookups]`:
// a sandbox population of N people (made from the fixtures, Patient resources only), then
// `chartgraph sync` of each source in turn through the CLI's own code, timed, then the link
// table scored against the sandbox's truth (bench/identity-eval.ts); with --lookups, every
// record is then looked up by MRN through a gateway and the links are scored again.

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
  /**
   * After the sync, start the gateway and look every record up by its MRN
   * (`patientByIdentifier`, St. Jude's first), then evaluate again.
   */
  lookups?: boolean;
  /** Lookups in flight at once (default 4). */
  lookupConcurrency?: number;
}

/** The lookup phase of a run. */
export interface LookupPhase {
  lookups: number;
  /** Lookups answered with GraphQL errors or no patient. */
  failed: number;
  ms: number;
  evaluation: IdentityEvaluation;
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
  /** With `lookups`: the figures after every record was also looked up. */
  afterLookups?: LookupPhase;
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
      limits: { rateLimit: { perMinute: 10_000_000 } },
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
    const evaluation = evaluateLinks(sandbox.truth, await readLinks(db.url));
    const afterLookups = opts.lookups ? await lookUpEveryRecord(config, sandbox, db.url, opts.lookupConcurrency ?? 4) : undefined;
    return {
      patients: sandbox.truth.patients.length,
      database: db.kind,
      sandboxStartMs,
      syncMs,
      totalSyncMs: syncMs.reduce((n, s) => n + s.ms, 0),
      evaluation,
      ...(afterLookups && { afterLookups }),
    };
  } finally {
    await sandbox.close();
    await db.dispose();
  }
}

async function readLinks(url: string) {
  const database = await openDatabase(url);
  try {
    return await readPatientLinks(database.prisma);
  } finally {
    await database.close();
  }
}

const BY_MRN = 'query($s: String!, $v: String!) { patientByIdentifier(system: $s, value: $v) { id } }';

/** Every record looked up by MRN through a gateway on the synced database, St. Jude's records first. */
async function lookUpEveryRecord(config: ChartgraphConfig, sandbox: Sandbox, dbUrl: string, concurrency: number): Promise<LookupPhase> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cg-identity-gw-'));
  const devSecretFile = path.join(dir, 'dev-secret');
  const gw = await startGateway(config, { logger: pino({ level: 'silent' }), port: 0, devSecretFile });
  const start = performance.now();
  let failed = 0;
  const queue: Array<{ ehr: EhrId; mrn: string }> = [];
  for (const ehr of ['stjude', 'mercy'] as const) for (const p of sandbox.truth.patients) if (p.ehrs[ehr]) queue.push({ ehr, mrn: p.ehrs[ehr]!.mrn });
  try {
    const token = await mintDevToken(config.auth, { role: 'clinician' }, devSecretFile);
    let next = 0;
    const worker = async () => {
      while (next < queue.length) {
        const { ehr, mrn } = queue[next++]!;
        const res = await fetch(`${gw.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ query: BY_MRN, variables: { s: EHR_INFO[ehr].mrnSystem, v: mrn } }),
        });
        const body = (await res.json()) as { data?: { patientByIdentifier?: { id: string } | null }; errors?: unknown[] };
        if (body.errors?.length || !body.data?.patientByIdentifier) failed++;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    await gw.close();
    await rm(dir, { recursive: true, force: true });
  }
  const ms = performance.now() - start;
  return { lookups: queue.length, failed, ms, evaluation: evaluateLinks(sandbox.truth, await readLinks(dbUrl)) };
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
    ...(r.afterLookups ? [`| ${r.afterLookups.lookups} lookups by MRN (${r.afterLookups.failed} failed) | ${seconds(r.afterLookups.ms)} |`] : []),
    '',
    formatEvaluation(r.evaluation, 'After sync'),
    ...(r.afterLookups ? ['', formatEvaluation(r.afterLookups.evaluation, 'After sync and lookups')] : []),
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
  const lookups = args.includes('--lookups');
  if (!Number.isInteger(patients) || patients < 1 || (database !== 'pglite' && database !== 'postgresql')) {
    console.error('usage: identity-population [--patients N] [--db pglite|postgresql] [--base-port P] [--lookups]');
    process.exit(2);
  }
  const result = await runIdentityPopulation({ patients, database, lookups, ...(basePort && { basePort: Number(basePort) }) });
  console.log(formatIdentityPopulation(result));
  process.exit(result.syncMs.some((s) => s.exitCode !== 0) ? 1 : 0);
}
