import 'reflect-metadata';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { CohortService } from '../analytics/cohort-service.js';
import { toCohortFilter } from '../analytics/cohort-criteria.js';
import { openDatabase, type Database } from '../datasources/cache/database.js';
import type { Prisma } from '../datasources/cache/generated/client.js';
import { breakdownSql, membersSql, type CohortDimensionKey } from '../datasources/population/cohort-store.js';

// The PRODUCT.md cohort target: a cohort of 10,000 patients answers in under 1 s on PGlite
// and on PostgreSQL, beside the plain SQL floor (the very statements the store sends, run
// on the bare driver: no Prisma, no service). The store is built by direct inserts.
//
//   npx tsx bench/cohort.ts [--patients 10000] [--db pglite|postgresql|both] [--iterations 10] [--explain]
//
// --patients is the cohort's size; the population is twice that (half of it matches).
// PostgreSQL: CHARTGRAPH_BENCH_PG_URL (default postgresql://postgres@127.0.0.1:5432/test);
// a throwaway database is created and dropped.

const PG_URL = process.env.CHARTGRAPH_BENCH_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
const TARGET_MS = 1000;

export type CohortDb = 'pglite' | 'postgresql';

export interface CohortBenchOptions {
  /** The cohort's size; the population is twice that. */
  patients: number;
  iterations: number;
  dbs: CohortDb[];
  explain?: boolean;
}

export interface CohortDbResult {
  db: CohortDb;
  cohort: number;
  p50Ms: number;
  maxMs: number;
  floorP50Ms: number;
  floorMaxMs: number;
  /** cohort p50 / floor p50 */
  ratio: number;
  met: boolean;
}

export interface CohortBenchResult {
  targetMs: number;
  results: CohortDbResult[];
  /** The markdown table, for RESULTS.md and the stand-alone run. */
  lines: string[];
}

const SCT = 'http://snomed.info/sct';
const LOINC = 'http://loinc.org';
const TODAY = new Date();
const CRITERIA = { conditions: [`${SCT}|44054006`], observations: [{ code: `${LOINC}|4548-4`, minValue: 6.5, unit: '%' }] };
const BREAKDOWN: CohortDimensionKey[] = ['AGE_GROUP', 'GENDER'];

/** Fills the store: 2N unified patients, each in source a, every other one in b too, with facts. */
async function build(db: Database, cohort: number): Promise<void> {
  const prisma = db.prisma;
  const population = cohort * 2;
  const fetchedAt = new Date();
  const chunk = async <T>(rows: T[], write: (part: T[]) => Promise<unknown>) => {
    for (let i = 0; i < rows.length; i += 4000) await write(rows.slice(i, i + 4000));
  };
  const unified: { id: string }[] = [];
  const links: Prisma.PatientLinkCreateManyInput[] = [];
  const patients: Prisma.SourcePatientCreateManyInput[] = [];
  const facts: Prisma.ClinicalFactCreateManyInput[] = [];
  for (let n = 0; n < population; n++) {
    const id = randomUUID();
    unified.push({ id });
    const diabetic = n % 2 === 0;
    const birth = `${1930 + (n % 85)}-${String(1 + (n % 12)).padStart(2, '0')}-15`;
    for (const sourceId of n % 4 === 0 ? ['a', 'b'] : ['a']) {
      const sp = `${sourceId}-${n}`;
      links.push({ sourceId, sourcePatientId: sp, unifiedId: id, method: 'identifier' });
      patients.push({ sourceId, sourcePatientId: sp, givenKeys: [], identifiers: [], gender: n % 3 === 0 ? 'male' : 'female', birthDate: birth, indexedAt: fetchedAt, lastUpdated: fetchedAt });
      const fact = (resourceType: string, rid: string, system: string, code: string, extra: Partial<Prisma.ClinicalFactCreateManyInput> = {}) =>
        facts.push({ sourceId, sourcePatientId: sp, resourceType, resourceId: `${rid}-${sp}`, system, code, fetchedAt, ...extra });
      if (diabetic && sourceId === 'a') fact('Condition', 'c', SCT, '44054006', { status: 'active' });
      fact('Condition', 'h', SCT, '59621000', { status: 'active' });
      // Three HbA1c values; the latest qualifies for diabetics only.
      for (let k = 0; k < 3; k++) {
        const latest = k === 2;
        const value = latest ? (diabetic ? 7 + (n % 20) / 10 : 5.2) : 6.9;
        fact('Observation', `o${k}`, LOINC, '4548-4', { value, unit: '%', date: new Date(Date.UTC(2020 + k, n % 12, 1)), status: 'final' });
      }
      fact('Observation', 'g', LOINC, '2339-0', { value: 90 + (n % 40), unit: 'mg/dL', date: new Date(Date.UTC(2023, 0, 1)), status: 'final' });
      fact('Encounter', 'e', 'http://terminology.hl7.org/CodeSystem/v3-ActCode', 'AMB', { date: new Date(Date.UTC(2015 + (n % 10), 5, 1)), status: 'finished' });
    }
  }
  await chunk(unified, (part) => prisma.unifiedPatient.createMany({ data: part }));
  await chunk(links, (part) => prisma.patientLink.createMany({ data: part }));
  await chunk(patients, (part) => prisma.sourcePatient.createMany({ data: part }));
  await chunk(facts, (part) => prisma.clinicalFact.createMany({ data: part }));
  await prisma.$executeRawUnsafe('ANALYZE');
  console.error(`  built: ${population} patients, ${links.length} links, ${facts.length} facts`);
}

/** p50 and slowest of `runs` timed calls, after one warm-up. */
async function time(runs: number, work: () => Promise<unknown>): Promise<{ p50: number; max: number }> {
  await work();
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await work();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return { p50: ms[Math.floor(ms.length / 2)]!, max: ms.at(-1)! };
}

type Raw = (text: string, values: unknown[]) => Promise<unknown[]>;

async function measure(kind: CohortDb, cohortSize: number, iterations: number, explain: boolean): Promise<CohortDbResult> {
  let url: string;
  let cleanup: () => Promise<void>;
  let dir: string | undefined;
  if (kind === 'pglite') {
    dir = await mkdtemp(path.join(os.tmpdir(), 'cg-bench-cohort-'));
    url = `pglite:${dir}`;
    cleanup = () => rm(dir!, { recursive: true, force: true });
  } else {
    const name = `cg_bench_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const u = new URL(PG_URL);
    u.pathname = `/${name}`;
    url = u.toString();
    cleanup = async () => {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    };
  }
  try {
    const db = await openDatabase(url);
    await build(db, cohortSize);
    const service = new CohortService(db.prisma, { suppressionThreshold: 11, sourceIds: ['a', 'b'], now: () => TODAY });
    const filter = toCohortFilter(CRITERIA, { today: TODAY, sourceIds: ['a', 'b'] });
    // What `cohort { totalCount nodes { id } breakdown(by: [AGE_GROUP, GENDER]) }` costs the store.
    const viaService = async () => {
      const cohort = service.cohort(filter, { suppress: true });
      const [total, cells] = await Promise.all([cohort.totalCount(), cohort.breakdown(BREAKDOWN)]);
      if (total !== cohortSize) throw new Error(`cohort has ${total} patients, expected ${cohortSize}`);
      return cells;
    };
    const cohortTime = await time(iterations, viaService);
    await db.close();

    const statements = [membersSql(filter), breakdownSql(filter, BREAKDOWN, TODAY)];
    let raw: Raw;
    let closeRaw: () => Promise<void>;
    if (kind === 'pglite') {
      const lite = await PGlite.create({ dataDir: dir! });
      raw = async (text, values) => (await lite.query(text, values)).rows;
      closeRaw = () => lite.close();
    } else {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      raw = async (text, values) => (await client.query(text, values)).rows;
      closeRaw = () => client.end();
    }
    // PGlite is one connection: the statements run one after the other there either way.
    const floorTime = await time(iterations, async () => {
      const [members] = await Promise.all(statements.map((s) => raw(s.text, s.values.map((v) => (v instanceof Date ? v.toISOString() : v)))));
      if (members!.length !== cohortSize) throw new Error(`floor found ${members!.length} patients`);
    });
    if (explain) {
      for (const st of statements) {
        const plan = (await raw(`EXPLAIN (ANALYZE, COSTS OFF) ${st.text}`, st.values.map((v) => (v instanceof Date ? v.toISOString() : v)))) as Record<string, string>[];
        console.error(plan.map((r) => Object.values(r)[0]).join('\n'));
      }
    }
    await closeRaw();
    return {
      db: kind,
      cohort: cohortSize,
      p50Ms: cohortTime.p50,
      maxMs: cohortTime.max,
      floorP50Ms: floorTime.p50,
      floorMaxMs: floorTime.max,
      ratio: cohortTime.p50 / floorTime.p50,
      met: cohortTime.p50 < TARGET_MS,
    };
  } finally {
    await cleanup();
  }
}

export async function runCohortBench(opts: CohortBenchOptions): Promise<CohortBenchResult> {
  const results: CohortDbResult[] = [];
  for (const kind of opts.dbs) {
    console.error(`cohort bench on ${kind}: cohort of ${opts.patients}, ${opts.iterations} runs`);
    results.push(await measure(kind, opts.patients, opts.iterations, opts.explain ?? false));
  }
  const lines = [
    '| database | cohort | cohort p50 (target < 1 s) | plain SQL floor p50 | ratio | target |',
    '|---|---|---|---|---|---|',
    ...results.map(
      (r) =>
        `| ${r.db} | ${r.cohort} | ${r.p50Ms.toFixed(0)} ms (max ${r.maxMs.toFixed(0)}) | ${r.floorP50Ms.toFixed(0)} ms (max ${r.floorMaxMs.toFixed(0)}) | ${r.ratio.toFixed(2)}x | ${r.met ? 'met' : 'MISSED'} |`,
    ),
  ];
  return { targetMs: TARGET_MS, results, lines };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const flag = (name: string, fallback: string) => (args.includes(name) ? args[args.indexOf(name) + 1]! : fallback);
  const db = flag('--db', 'both');
  if (!['both', 'pglite', 'postgresql'].includes(db)) throw new Error(`--db must be pglite, postgresql or both (got ${db})`);
  const result = await runCohortBench({
    patients: Number(flag('--patients', '10000')),
    iterations: Number(flag('--iterations', '10')),
    dbs: db === 'both' ? ['pglite', 'postgresql'] : [db as CohortDb],
    explain: args.includes('--explain'),
  });
  console.log(result.lines.join('\n'));
}
