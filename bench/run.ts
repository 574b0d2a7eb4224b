import '../server/production-env.js';
import 'reflect-metadata';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describeValidationBench, runValidationBench } from './validation.js';
import {
  COLD_CACHE,
  DASHBOARD,
  DASHBOARD_PATIENTS,
  FHIR_TYPES,
  ONE,
  UPSTREAM_LATENCY_MS,
  directCalls,
  gateway,
  ms,
  paired,
  pct,
  resolveIds,
  sourceLinks,
  timeIt,
  upstreams,
} from './added-latency-shared.js';
import { formatLimitsBench, runLimitsBench } from './limits.js';
import { runCachedThroughput } from './cached-throughput.js';
import { loadRun as throughput } from './load-run.js';
import { runDashboardScale } from './dashboard-scale.js';
import { formatIdentityPopulation, runIdentityPopulation } from './identity-population.js';
import { runCohortBench } from './cohort.js';
import { runEventsBench } from './events.js';

// `npm run bench`: the PRODUCT.md performance scenarios against the sandbox with a fixed
// upstream latency, each beside its baseline in the same run, written to bench/RESULTS.md.
// Flags: --quick (short runs, for a smoke test), --load-seconds N (default 60).

const args = process.argv.slice(2);
const QUICK = args.includes('--quick');
const LOAD_SECONDS = Number(args[args.indexOf('--load-seconds') + 1]) || (QUICK ? 5 : 60);
const THROUGHPUT_SECONDS = QUICK ? 3 : 10;
const ITERATIONS = QUICK ? 5 : 20;

interface Row {
  target: string;
  measured: string;
  baseline: string;
  met: boolean | null;
  /** What stands between the measure and the target, and the plan, shown when it is missed. */
  gap?: string;
}

async function main() {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cg-bench-'));
  const rows: Row[] = [];
  const notes: string[] = [];
  // Document limits first, in a quiet process (no servers yet): pure CPU, ratios to a trivial query.
  console.error('document limits...');
  const limits = await runLimitsBench({ iterations: QUICK ? 200 : 2000 });
  console.error(formatLimitsBench(limits));
  const us = (x: number) => `${x.toFixed(0)} µs`;
  rows.push({
    target: 'document limits: field check, parse and validation of a large allowed query (no PRODUCT.md target)',
    measured: `median ${us(limits.large.medianUs)} (${limits.large.fields} fields), ${limits.ratios.large.toFixed(1)}x the trivial query`,
    baseline: `trivial query ${us(limits.trivial.medianUs)}`,
    met: null,
  });
  rows.push({
    target: '1,100 copies of one field refused before validation, costing less than a trivial query',
    measured: `median ${us(limits.rejected.medianUs)}, ${limits.ratios.rejected.toFixed(2)}x the trivial query (unguarded it would cost ${us(limits.unguarded.medianUs)}, ${limits.ratios.unguarded.toFixed(0)}x)`,
    baseline: `trivial query ${us(limits.trivial.medianUs)}`,
    met: limits.ratios.rejected < 1,
    gap: 'The field check lexes the whole document (up to limits.maxTokens tokens) so that the error can report the count. Plan: stop at the first field over the limit and report only that the limit was passed.',
  });
  const { a, b, sources } = await upstreams();
  const cold = await gateway(sources, COLD_CACHE, dir, 'cold');
  // Warm runs measure execution from the cached copies: the response cache (on by default) would answer the repeats whole.
  const warm = await gateway(sources, { defaultTtlSeconds: 3600, responseMaxAgeSeconds: 0 }, dir, 'warm');
  const bare = await gateway(sources, { defaultTtlSeconds: 3600, responseMaxAgeSeconds: 0 }, dir, 'bare', true);
  try {
    console.error('resolving patients...');
    const ids = await resolveIds(cold.post, a);
    const links = await sourceLinks(cold.gw, ids);

    // 1. Upstream calls of a 50-patient x 5-type dashboard over 3 EHRs.
    const ehrs = [a.ehr('mercy'), a.ehr('stjude'), b.ehr('mercy')];
    const names = ['mercy', 'stjude', 'county'];
    for (const e of ehrs) e.resetRequests();
    await cold.post(DASHBOARD, { ids });
    const callLines: string[] = [];
    let callsOk = true;
    ehrs.forEach((e, i) => {
      const or = e.profile.patientOrSearch;
      const linked = links.get(names[i]!)?.length ?? 0;
      const searches = e.requests.entries.filter((r) => r.interaction === 'search' && !r.page);
      const keys = searches.map((r) => `${r.resourceType} ${JSON.stringify(r.params)}`);
      const dupes = keys.length - new Set(keys).size;
      for (const t of FHIR_TYPES) {
        const n = searches.filter((r) => r.resourceType === t).length;
        const bound = or ? 1 : linked; // one chunk holds 50 ids under maxUrlLength 2000
        if (n > bound) callsOk = false;
        callLines.push(`| ${names[i]} (${or ? 'OR lists' : 'no OR'}) | ${t} | ${n} | ${or ? '1 per chunk' : `1 per patient (${linked})`} |`);
      }
      if (dupes > 0) callsOk = false;
      callLines.push(`| ${names[i]} | duplicates | ${dupes} | 0 |`);
      notes.push(`${names[i]}: ${e.requests.count()} requests in all (searches, next pages, Patient reads) for ${linked} linked patients`);
    });
    rows.push({
      target: 'dashboard 50 patients x 5 types x 3 EHRs: <= 1 search per (source, type, chunk) with OR lists, <= 1 per (source, type, patient) without; no duplicates',
      measured: callsOk ? 'met (table below)' : 'NOT met (table below)',
      baseline: '-',
      met: callsOk,
    });

    // 2. Added latency over the slowest upstream path (direct calls, same client, no GraphQL).
    const oneId = ids[0]!;
    const oneLinks = await sourceLinks(cold.gw, [oneId]);
    await directCalls(cold.config, oneLinks, true); // warm up connections and /metadata
    const one = await paired(ITERATIONS, async () => void (await cold.post(ONE, { id: oneId })), () => directCalls(cold.config, oneLinks, true));
    const gwOne = one.gw;
    const addedOne = one.median;
    rows.push({
      target: 'added latency, one patient: p50 <= 5 ms',
      measured: `median of ${ITERATIONS} paired differences ${ms(addedOne)} (${one.spread})`,
      baseline: `direct p50 ${ms(pct(one.floor, 50))}; gateway p50 ${ms(pct(gwOne, 50))}`,
      met: addedOne <= 5,
      gap: 'Clinical searches already start from the index, in parallel with the Patient reads; what is left is the index lookup, GraphQL execution through the permission, audit and de-identification middleware, and mapping. Plan: as for throughput below (fewer wrapped fields, cached validated documents), and map only the page served.',
    });

    const dash = await paired(ITERATIONS, async () => void (await cold.post(DASHBOARD, { ids })), () => directCalls(cold.config, links, false));
    const addedDash = dash.median;
    rows.push({
      target: 'added latency, 50-patient dashboard: p50 <= 20 ms',
      measured: `median of ${ITERATIONS} paired differences ${ms(addedDash)} (${dash.spread})`,
      baseline: `direct p50 ${ms(pct(dash.floor, 50))}; gateway p50 ${ms(pct(dash.gw, 50))}`,
      met: addedDash <= 20,
      gap:
        'The gateway maps, de-duplicates and sorts every item of 50 patients x 5 types (tens of thousands of resources) on the one event loop it shares here with the sandbox. Plan: map lazily (identity keys first, full items only for the page served) and keep the per-patient merged lists in the memory tier, so a dashboard maps only what changed.',
    });

    // 3. Repeat query from the cache.
    const warmIds = await resolveIds(warm.post, a);
    await warm.post(ONE, { id: warmIds[0] });
    await new Promise((r) => setTimeout(r, 500)); // cache writes land after the answer
    const hit = await timeIt(ITERATIONS * 5, async () => void (await warm.post(ONE, { id: warmIds[0] })));
    rows.push({ target: 'repeat one-patient query from the cache: p50 <= 10 ms', measured: `p50 ${ms(pct(hit, 50))}, p99 ${ms(pct(hit, 99))}`, baseline: `uncached p50 ${ms(pct(gwOne, 50))}`, met: pct(hit, 50) <= 10 });

    // 4. Shield + audit cost (the cached throughput against hello-world runs below, in alternating rounds).
    const body = JSON.stringify({ query: ONE, variables: { id: warmIds[0] } });
    const bareIds = await resolveIds(bare.post, a);
    await bare.post(ONE, { id: bareIds[0] });
    await new Promise((r) => setTimeout(r, 500));
    // Alternated rounds, so that a slow moment of this shared machine does not land on one side only.
    const bareBody = JSON.stringify({ query: ONE, variables: { id: bareIds[0] } });
    const unsecured = { rps: 0 };
    const secured = { rps: 0 };
    for (let round = 0; round < 2; round++) {
      unsecured.rps += (await throughput(`${bare.gw.url}/graphql`, bareBody, bare.token, THROUGHPUT_SECONDS)).rps / 2;
      secured.rps += (await throughput(`${warm.gw.url}/graphql`, body, warm.token, THROUGHPUT_SECONDS)).rps / 2;
    }
    const cost = 1 - secured.rps / unsecured.rps;
    rows.push({
      target: 'shield + audit cost <= 15% of throughput',
      measured: `${(cost * 100).toFixed(1)}% (${secured.rps.toFixed(0)} vs ${unsecured.rps.toFixed(0)} req/s)`,
      baseline: 'same gateway without shield, audit, de-identification',
      met: cost <= 0.15,
      gap: 'Audit events are written to the in-process PGlite in batches; with PostgreSQL their cost moves out of the gateway. Plan: measure on PostgreSQL beside PGlite in the same run.',
    });

    // 5. Load run: mixed cached and uncached queries; no errors, no memory growth.
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    const heapBefore = process.memoryUsage().heapUsed;
    const load = await throughput(`${warm.gw.url}/graphql`, JSON.stringify({ query: DASHBOARD, variables: { ids: warmIds } }), warm.token, LOAD_SECONDS);
    global.gc?.();
    const heapGrowth = (process.memoryUsage().heapUsed - heapBefore) / 1024 / 1024;
    rows.push({
      target: `load run ${LOAD_SECONDS} s (autocannon, 10 connections, 50-patient dashboard): no errors, no memory growth`,
      measured: `${load.total} requests, ${load.errors} errors, heap ${heapGrowth >= 0 ? '+' : ''}${heapGrowth.toFixed(1)} MiB, RSS ${((process.memoryUsage().rss - rssBefore) / 1024 / 1024).toFixed(1)} MiB`,
      baseline: `p50 ${load.p50} ms`,
      met: load.errors === 0 && heapGrowth < 50,
    });

    // 6. What validating upstream answers costs, on a 1,000-patient dashboard's resources (bench/validation.ts).
    const validation = runValidationBench({ patients: QUICK ? 100 : 1_000, rounds: QUICK ? 3 : 7 });
    rows.push({
      target: 'validation of upstream answers (attribution, type, structure): cost measured (issue 16)',
      measured: describeValidationBench(validation),
      baseline: 'the same pages read with no checks, and JSON.parse of them',
      met: null,
    });

    // Dashboards at scale and the cached throughput with its profile (each also runnable alone).
    const scale: string[] = [];
    for (const patients of QUICK ? [200] : [200, 1000]) {
      console.error(`dashboard of ${patients} patients...`);
      const r = await runDashboardScale({ patients, runs: QUICK ? 2 : 5, latencyMs: UPSTREAM_LATENCY_MS });
      scale.push(...r.lines);
      rows.push({
        target: `dashboard of ${patients} patients x 5 types over 3 EHRs at ${UPSTREAM_LATENCY_MS} ms: 0 errors, cold <= 1.5x floor, warm < 500 ms, calls within bound`,
        measured: `cold ${r.cold.medianMs.toFixed(0)} ms = ${r.cold.ratio.toFixed(2)}x floor; warm ${r.warm.medianMs.toFixed(0)} ms; errors ${r.cold.errors + r.warm.errors}; bound ${r.cold.withinBound ? 'kept' : 'EXCEEDED'}`,
        baseline: `floor ${r.cold.floorMedianMs.toFixed(0)} ms; RSS ${r.rssMiB.map((x) => x.toFixed(0)).join('/')} MiB`,
        met: r.cold.errors + r.warm.errors === 0 && r.cold.ratio <= 1.5 && r.warm.medianMs < 500 && r.cold.withinBound,
      });
    }
    const tput = await runCachedThroughput({ seconds: THROUGHPUT_SECONDS, rounds: QUICK ? 2 : 3 });
    scale.push(...tput.lines);
    rows.push({
      target: 'cached one-patient throughput >= 40% of hello-world (alternating rounds, median ratio)',
      measured: `${(tput.ratio * 100).toFixed(0)}% (errors ${tput.errors})`,
      baseline: `bare Apollo hello-world, same host; every request run (response cache off): ${(tput.executedRatio * 100).toFixed(0)}%; the same answer from constants (bare Apollo): ${(tput.floorRatio * 100).toFixed(0)}%`,
      met: tput.ratio >= 0.4 && tput.errors === 0,
    });

    // Identity at population scale (issue 10): sync of N people over two EHRs, scored against the truth.
    const identity: string[] = [];
    for (const patients of QUICK ? [1000] : [1000, 10_000]) {
      console.error(`identity population of ${patients} people...`);
      const r = await runIdentityPopulation({ patients });
      identity.push(formatIdentityPopulation(r), '');
      const e = r.evaluation;
      rows.push({
        target: `sync of ${patients} people over two EHRs: split <= 1%, no false merge, precision >= 0.99, recall >= 0.98, under ${patients > 1000 ? '10 min' : '60 s'}`,
        measured: `split ${(e.splitRate * 100).toFixed(2)}%, false merges ${e.falseMerges}, precision ${e.precision?.toFixed(4) ?? '-'}, recall ${e.recall?.toFixed(4) ?? '-'}, sync ${(r.totalSyncMs / 1000).toFixed(1)} s`,
        baseline: `${e.people} people, ${e.sharedPeople} held by both EHRs`,
        met: e.splitRate <= 0.01 && e.falseMerges === 0 && (e.precision ?? 0) >= 0.99 && (e.recall ?? 0) >= 0.98 && r.totalSyncMs < (patients > 1000 ? 600_000 : 60_000),
      });
    }

    // Cohort of 10,000 patients on PGlite and PostgreSQL beside its SQL floor (bench/cohort.ts).
    const cohortSize = QUICK ? 1000 : 10_000;
    console.error(`cohort of ${cohortSize} patients...`);
    const cohort = await runCohortBench({ patients: cohortSize, iterations: QUICK ? 3 : 10, dbs: ['pglite', 'postgresql'] });
    for (const r of cohort.results) {
      rows.push({
        target: `cohort of ${r.cohort} patients (totalCount + 2-dimension breakdown) on ${r.db}: p50 < ${cohort.targetMs / 1000} s`,
        measured: `p50 ${r.p50Ms.toFixed(0)} ms (max ${r.maxMs.toFixed(0)}), ${r.ratio.toFixed(2)}x floor`,
        baseline: `plain SQL floor (same statements, bare driver) p50 ${r.floorP50Ms.toFixed(0)} ms`,
        met: r.met,
      });
    }

    // Care-coordination events: two replicas on PostgreSQL, one killed half-way (bench/events.ts).
    const eventOpts = QUICK
      ? { patients: 50, ehrs: 3, rate: 10, durationSeconds: 10, pollSeconds: 1, leaseSeconds: 5 }
      : { patients: 1000, ehrs: 3, rate: 10, durationSeconds: 60, pollSeconds: 5, leaseSeconds: 5 };
    console.error(`events: ${eventOpts.patients} patients for ${eventOpts.durationSeconds} s...`);
    const events = await runEventsBench(eventOpts);
    rows.push({
      target: `events: ${eventOpts.patients} watched patients, ${eventOpts.ehrs} EHRs, ${eventOpts.rate}/s for ${eventOpts.durationSeconds} s, one replica killed: 0 lost, 0 duplicated, p99 delivery <= poll (${eventOpts.pollSeconds} s) + 2 s`,
      measured: events.subscribers.map((r) => `${r.subscriber}: lost ${r.lost}, duplicated ${r.duplicated}, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, max ${r.maxMs ?? '-'} ms`).join('; '),
      baseline: `${events.subscribers[0]?.expected ?? 0} admissions written (one in ten at two EHRs: one event each); bound ${events.deliveryBoundMs} ms`,
      met: events.met,
      gap: 'Admissions written at sources whose poller sat on the killed replica wait for its leases to expire (lease seconds) and the next poll on the survivor, so delivery around the kill takes about lease + poll; with 100 admissions (--quick) p99 is the slowest one. Plan: release leases on an orderly shutdown and have survivors take over a source once its lease holder stops renewing, or name the bound for the failover window separately.',
    });

    const report = [
      '# Benchmark results',
      '',
      `Command: \`npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}\` (node --expose-gc dist/bench/run.js). Machine: ${os.cpus().length} cores, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}.`,
      `Upstreams: the sandbox with ${UPSTREAM_LATENCY_MS} ms fixed latency on every request; 3 EHRs (mercy and county accept OR lists, stjude does not); ${DASHBOARD_PATIENTS} patients.`,
      'Every figure is measured in this same run beside its baseline. The latency floor is the same upstream calls made directly with the same FHIR client (no GraphQL, identity, mapping or cache).',
      'Servers, sandbox and load generator share this process and its two cores, so absolute numbers are pessimistic; the ratios are what the targets name.',
      '',
      '| target (PRODUCT.md) | measured | baseline in the same run | met |',
      '|---|---|---|---|',
      ...rows.map((r) => `| ${r.target} | ${r.measured} | ${r.baseline} | ${r.met === null ? '-' : r.met ? 'yes' : 'NO'} |`),
      '',
      ...(rows.some((r) => r.met === false)
        ? ['## Targets missed: why, and the plan', '', ...rows.filter((r) => r.met === false).map((r) => `- **${r.target}**: ${r.gap ?? 'no explanation recorded'}`), '']
        : []),
      '## Upstream searches of one dashboard query',
      '',
      '| source | resource type | first-page searches | bound |',
      '|---|---|---|---|',
      ...callLines,
      '',
      ...notes.map((n) => `- ${n}`),
      '',
      '## Identity at population scale',
      '',
      ...identity,
      '## Dashboards at scale and cached throughput',
      '',
      ...scale,
      '',
      '## Cohort',
      '',
      ...cohort.lines,
      '',
      '## Care-coordination events',
      '',
      ...events.lines,
    ].join('\n');
    const out = path.join(process.cwd(), 'bench', 'RESULTS.md');
    await writeFile(out, report);
    console.log(report);
  } finally {
    await Promise.all([cold.gw.close(), warm.gw.close(), bare.gw.close()]);
    await Promise.all([a.close(), b.close()]);
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
