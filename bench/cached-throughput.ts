import '../server/production-env.js';
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ApolloServer } from '@apollo/server';
import { fastifyApolloHandler } from '@as-integrations/fastify';
import Fastify from 'fastify';
import pg from 'pg';
import { pino } from 'pino';
import { parseConfig } from '../config/load-config.js';
import { startSandbox } from '../sandbox/index.js';
import { startGateway } from '../server/app.js';
import { mintDevToken } from '../server/auth.js';
import { helloWorld, loadRun as load } from './load-run.js';

// Throughput of a cached one-patient query with 5 lists against a bare Apollo hello-world on
// the same host, in alternating rounds (hello, floor, gateway, hello, ...) so that a slow
// moment of a shared machine lands on all; the ratio is the median of the per-round ratios.
// The floor answers the same query from constants with a bare Apollo: what Apollo and
// graphql-js alone cost for this answer. The gateway runs as configured by default, so its
// repeats are given from the response cache; a second gateway with it off shows what running
// each request costs. Every error and non-2xx answer counts. One extra
// gateway round runs under the V8 CPU profiler and is summarised by where the time went.
//
//   node dist/bench/cached-throughput.js [--seconds 5] [--rounds 3] [--postgres] [--cpuprofile out.cpuprofile]
//
// The cache and audit database is PGlite in this process by default; --postgres puts it on a
// throwaway PostgreSQL database (CHARTGRAPH_BENCH_PG_URL, default
// postgresql://postgres@127.0.0.1:5432/postgres), as production runs it, so that the audit
// inserts' CPU is the database server's, not the gateway's.
// --cpuprofile keeps the profiled round's raw V8 profile (for Chrome DevTools or speedscope).

export interface ThroughputResult {
  lines: string[];
  ratio: number;
  /** The same answer shape from constants, bare Apollo, against hello-world (median of rounds). */
  floorRatio: number;
  /** The gateway with the response cache off (every request run), against hello-world (median of rounds). */
  executedRatio: number;
  errors: number;
}

const TYPES = ['conditions', 'observations', 'medicationRequests', 'encounters', 'immunizations'] as const;
const ONE = `query($id: ID!) { patient(id: $id) { id name { text } ${TYPES.map((t) => `${t}(first: 20) { totalCount nodes { id } }`).join(' ')} } }`;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/**
 * The same query answered by a bare Apollo from constant data (same types' shape, 40 items a
 * list, sliced to `first`): what Apollo and graphql-js alone cost for this answer, with no
 * gateway work at all. Its ratio to hello-world is the floor under the gateway's.
 */
async function sameShapeFromConstants() {
  const conn = 'type Items { totalCount: Int! nodes: [Item!]! }';
  const typeDefs = `type Query { patient(id: ID!): Patient } type Name { text: String } type Item { id: ID! } ${conn}
    type Patient { id: ID! name: Name ${TYPES.map((t) => `${t}(first: Int): Items!`).join(' ')} }`;
  const items = Array.from({ length: 40 }, (_, i) => ({ id: `mercy/Resource/${i}-0123456789abcdef` }));
  const list = async (_p: unknown, args: { first?: number }) => ({ totalCount: items.length, nodes: items.slice(0, args.first ?? 50) });
  const apollo = new ApolloServer({
    typeDefs,
    resolvers: {
      Query: { patient: async (_r: unknown, args: { id: string }) => ({ id: args.id, name: { text: 'Ann Example' } }) },
      Patient: Object.fromEntries(TYPES.map((t) => [t, list])),
    },
    stringifyResult: (value) => JSON.stringify(value),
  });
  await apollo.start();
  const app = Fastify();
  app.route({ method: ['GET', 'POST', 'OPTIONS'], url: '/graphql', handler: fastifyApolloHandler(apollo) });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { url: `${url}/graphql`, close: async () => (await app.close(), await apollo.stop()) };
}

/** Self time of a CPU profile grouped by where the code lives. */
function summarise(profile: {
  nodes: { id: number; callFrame: { url: string; functionName: string }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}): string[] {
  // The profiler's own stop (serialising the profile, under node:inspector) is no part of serving.
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const profiler = new Set<number>();
  const mark = (id: number) => {
    profiler.add(id);
    for (const c of byId.get(id)?.children ?? []) mark(c);
  };
  for (const n of profile.nodes) if (n.callFrame.url === 'node:inspector' && !profiler.has(n.id)) mark(n.id);
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    if (!profiler.has(id)) self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const groups = new Map<string, number>();
  const fns = new Map<string, number>();
  let total = 0;
  for (const n of profile.nodes) {
    const t = self.get(n.id) ?? 0;
    if (t === 0) continue;
    total += t;
    const url = n.callFrame.url;
    const fn = n.callFrame.functionName;
    const group =
      fn === '(garbage collector)' ? 'GC'
      : fn === '(idle)' || fn === '(program)' ? 'idle / program'
      : /node_modules\/graphql\//.test(url) ? 'graphql-js'
      : /node_modules\/(graphql-middleware|graphql-shield)\//.test(url) ? 'graphql-middleware + shield'
      : /node_modules\/type-graphql\//.test(url) ? 'type-graphql'
      : /node_modules\/@apollo\//.test(url) ? 'Apollo Server'
      : /node_modules\/(fastify|@fastify|find-my-way|light-my-request|avvio)/.test(url) ? 'Fastify'
      : /node_modules\/autocannon|node_modules\/hdr/.test(url) ? 'load generator (autocannon)'
      : /node_modules\//.test(url) ? 'other dependencies'
      : /\/dist\/sandbox\//.test(url) ? 'sandbox'
      : /\/dist\//.test(url) ? 'chartgraph'
      : url.startsWith('node:') || url === '' ? 'Node internals (HTTP, streams, async hooks)'
      : 'other';
    groups.set(group, (groups.get(group) ?? 0) + t);
    if (group === 'chartgraph') {
      const key = `${fn || '(anonymous)'} ${url.split('/dist/')[1]}`;
      fns.set(key, (fns.get(key) ?? 0) + t);
    }
  }
  const pct = (t: number) => `${((t / total) * 100).toFixed(1)}%`;
  return [
    '| where (self time) | share |',
    '|---|---|',
    ...[...groups].sort((a, b) => b[1] - a[1]).map(([g, t]) => `| ${g} | ${pct(t)} |`),
    '',
    'Top chartgraph functions by self time: ' +
      [...fns].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([f, t]) => `${f} ${pct(t)}`).join('; '),
  ];
}

const PG_URL = process.env.CHARTGRAPH_BENCH_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

/** A throwaway PostgreSQL database: its URL and how to drop it. */
async function throwawayPostgres(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `cg_bench_tput_${randomBytes(4).toString('hex')}`;
  const admin = async (sql: string) => {
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const u = new URL(PG_URL);
  u.pathname = `/${name}`;
  return { url: u.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

export async function runCachedThroughput(opts: { seconds: number; rounds: number; postgres?: boolean; cpuprofile?: string }): Promise<ThroughputResult> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cg-tput-'));
  const database = opts.postgres ? await throwawayPostgres() : undefined;
  const sandbox = await startSandbox({ maxPatients: 20 });
  // The gateway as configured by default (repeats answered from the response cache), and
  // one that runs every request (response cache off), on the same database and cached copies.
  const configWith = (cache: Record<string, unknown>) =>
    parseConfig({
      server: { port: 0, logLevel: 'silent' },
      cache: { url: database?.url ?? `pglite:${path.join(dir, 'db')}`, defaultTtlSeconds: 3600, ...cache },
      auth: { mode: 'dev' },
      limits: { rateLimit: { perMinute: 10_000_000 } },
      sources: sandbox.sourcesConfig(),
    });
  const config = configWith({});
  const devSecretFile = path.join(dir, 'dev-secret');
  const gw = await startGateway(config, { logger: pino({ level: 'silent' }), port: 0, devSecretFile });
  const executing = await startGateway(configWith({ responseMaxAgeSeconds: 0 }), { logger: pino({ level: 'silent' }), port: 0, devSecretFile, database: gw.services.database });
  const token = await mintDevToken(config.auth, { role: 'clinician' }, devSecretFile);
  const hello = await helloWorld();
  const floor = await sameShapeFromConstants();
  try {
    const person = sandbox.truth.patients.find((p) => p.ehrs.mercy && p.ehrs.stjude)!;
    const post = async (query: string, variables: Record<string, unknown>, url = gw.url) =>
      (await (await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) })).json()) as { data?: any };
    const found = await post('query($v: String!) { patientByIdentifier(system: "http://mercy.example/fhir/mrn", value: $v) { id } }', { v: person.ehrs.mercy!.mrn });
    const id = found.data.patientByIdentifier.id as string;
    await post(ONE, { id });
    await post(ONE, { id }, executing.url);
    await new Promise((r) => setTimeout(r, 1000)); // cache writes land after the answer
    // Both give the same answer, and the one from the response cache is the one executed.
    const [kept, executed] = [await post(ONE, { id }), await post(ONE, { id }, executing.url)];
    const sameAnswer = JSON.stringify(kept.data) === JSON.stringify(executed.data) && !!kept.data?.patient;
    const body = JSON.stringify({ query: ONE, variables: { id } });
    const helloBody = JSON.stringify({ query: '{ hello }' });
    await load(hello.url, helloBody, null, 1); // warm-up, both sides
    await load(`${gw.url}/graphql`, body, token, 1);
    await load(floor.url, body, null, 1);
    await load(`${executing.url}/graphql`, body, token, 1);

    const ratios: number[] = [];
    const floorRatios: number[] = [];
    const floorRounds: string[] = [];
    const cpuRatios: number[] = [];
    const rounds: string[] = [];
    const cpuRounds: string[] = [];
    const executedRatios: number[] = [];
    const executedRounds: string[] = [];
    let errors = 0;
    for (let r = 0; r < opts.rounds; r++) {
      const base = await load(hello.url, helloBody, null, opts.seconds);
      const constant = await load(floor.url, body, null, opts.seconds);
      const ours = await load(`${gw.url}/graphql`, body, token, opts.seconds);
      const run = await load(`${executing.url}/graphql`, body, token, opts.seconds);
      errors += ours.errors + base.errors + constant.errors + run.errors;
      executedRatios.push(run.rps / base.rps);
      executedRounds.push(`${run.rps.toFixed(0)}`);
      floorRatios.push(constant.rps / base.rps);
      floorRounds.push(`${constant.rps.toFixed(0)}`);
      ratios.push(ours.rps / base.rps);
      cpuRatios.push(base.cpuUsPerRequest / ours.cpuUsPerRequest);
      rounds.push(`${ours.rps.toFixed(0)} / ${base.rps.toFixed(0)}`);
      cpuRounds.push(`${ours.cpuUsPerRequest.toFixed(0)} / ${base.cpuUsPerRequest.toFixed(0)}`);
    }

    const session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
    await load(`${gw.url}/graphql`, body, token, opts.seconds);
    const { profile } = (await session.post('Profiler.stop')) as { profile: Parameters<typeof summarise>[0] };
    session.disconnect();
    if (opts.cpuprofile) await writeFile(opts.cpuprofile, JSON.stringify(profile));

    const ratio = median(ratios);
    const lines = [
      '### Cached one-patient query (5 lists of 20) against a bare Apollo hello-world',
      '',
      `Command: \`node dist/bench/cached-throughput.js --seconds ${opts.seconds} --rounds ${opts.rounds}${opts.postgres ? ' --postgres' : ''}\` (NODE_ENV=${process.env.NODE_ENV}; cache and audit database: ${opts.postgres ? 'PostgreSQL' : 'PGlite in this process'}). 10 connections, alternating rounds.`,
      '',
      `- ratio, median of ${opts.rounds} rounds (target >= 40%): **${(ratio * 100).toFixed(0)}%** (rounds ${ratios.map((x) => `${(x * 100).toFixed(0)}%`).join(', ')}; req/s gateway / hello: ${rounds.join(', ')})`,
      `- CPU time per request, hello / gateway, median (steadier than req/s on a busy machine): **${(median(cpuRatios) * 100).toFixed(0)}%** (rounds ${cpuRatios.map((x) => `${(x * 100).toFixed(0)}%`).join(', ')}; µs per request gateway / hello: ${cpuRounds.join(', ')})`,
      `- answers equal, response cache and executed: ${sameAnswer ? 'yes' : 'NO'}`,
      `- with the response cache off (every request executed from the cached copies): **${(median(executedRatios) * 100).toFixed(0)}%** (rounds ${executedRatios.map((x) => `${(x * 100).toFixed(0)}%`).join(', ')}; req/s ${executedRounds.join(', ')})`,
      `- floor: the same query answered by a bare Apollo from constants, against hello-world: **${(median(floorRatios) * 100).toFixed(0)}%** (rounds ${floorRatios.map((x) => `${(x * 100).toFixed(0)}%`).join(', ')}; req/s ${floorRounds.join(', ')})`,
      `- errors and non-2xx answers, all rounds: ${errors}`,
      '',
      'Profile of one more gateway round (gateway, sandbox and load generator share the process):',
      '',
      ...summarise(profile),
      '',
    ];
    return { lines, ratio, floorRatio: median(floorRatios), executedRatio: median(executedRatios), errors: errors + (sameAnswer ? 0 : 1) };
  } finally {
    await hello.close();
    await floor.close();
    // It borrows gw's database: closed first, so its last audit events still go in.
    await executing.close();
    await gw.close();
    await sandbox.close();
    await database?.drop();
    await rm(dir, { recursive: true, force: true });
  }
}

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const i = process.argv.indexOf('--cpuprofile');
  const cpuprofile = i >= 0 ? process.argv[i + 1] : undefined;
  const postgres = process.argv.includes('--postgres');
  const result = await runCachedThroughput({ seconds: flag('--seconds', 5), rounds: flag('--rounds', 3), postgres, cpuprofile });
  console.log(result.lines.join('\n'));
}
