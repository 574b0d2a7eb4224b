import '../server/production-env.js';
import 'reflect-metadata';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { parseConfig } from '../config/load-config.js';
import { fhirSources, type ChartgraphConfig } from '../config/config.schema.js';
import { FhirClient } from '../datasources/fhir/fhir-client.js';
import { chunkOrValues, searchForPatients } from '../datasources/fhir/patient-batch.js';
import { patientSearchParam } from '../datasources/fhir/patient-params.js';
import { escapeSearchValue } from '../datasources/fhir/search-params.js';
import { startSandbox, type Sandbox, type SimulatedEhr } from '../sandbox/index.js';
import { startGateway, type Gateway } from '../server/app.js';
import { mintDevToken } from '../server/auth.js';

// Dashboards of N patients x 5 types over 3 EHRs at fixed upstream latency, cold and warm:
// mercy (OR lists), stjude (no OR lists, FHIR batch), county (neither: one search per patient).
// Cold runs are paired with the floor (the same upstream calls made directly with the same
// FHIR client, no GraphQL, identity, mapping or cache) and interleaved A, B, A, B; reported as
// the median of the paired differences and ratios with their spread. Every GraphQL error counts.
//
//   node --expose-gc dist/bench/dashboard-scale.js --patients 200 [--runs 5] [--latency 20]

export interface DashboardScaleOptions {
  patients: number;
  runs: number;
  latencyMs: number;
}

export interface DashboardScaleResult {
  lines: string[];
  /** Figures for the summary table of bench/run.ts. */
  cold: { medianMs: number; floorMedianMs: number; ratio: number; errors: number; withinBound: boolean };
  warm: { medianMs: number; errors: number };
  rssMiB: number[];
}

const TYPES = ['conditions', 'observations', 'medicationRequests', 'encounters', 'immunizations'] as const;
const FHIR_TYPES = ['Condition', 'Observation', 'MedicationRequest', 'Encounter', 'Immunization'];
const DASHBOARD = `query($ids: [ID!]!) { patients(ids: $ids) { id ${TYPES.map((t) => `${t}(first: 1) { totalCount }`).join(' ')} } }`;
const ALIASES = 25;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const spread = (xs: number[], digits = 0) => `${Math.min(...xs).toFixed(digits)} to ${Math.max(...xs).toFixed(digits)}`;
const mib = () => process.memoryUsage().rss / 1024 / 1024;

async function gatewayFor(sources: Record<string, unknown>[], cache: Record<string, unknown>, dir: string, name: string) {
  const config = parseConfig({
    server: { port: 0, logLevel: 'silent' },
    cache: { url: `pglite:${path.join(dir, name)}`, ...cache },
    auth: { mode: 'dev' },
    // A one-search-per-patient source needs 5 x N searches under its cap of 8: at 1,000
    // patients that is longer than the default 20 s request deadline, whatever the gateway
    // does, so the bench gives every request (and the floor) two minutes.
    limits: { rateLimit: { perMinute: 10_000_000 }, requestDeadlineMs: 120_000, maxPatientsPerRequest: 5000 },
    sources: sources.map((s) => ({ ...s, queueTimeoutMs: 120_000, timeoutMs: 30_000 })),
  });
  const devSecretFile = path.join(dir, 'dev-secret');
  const gw = await startGateway(config, { logger: pino({ level: 'silent' }), port: 0, devSecretFile });
  const token = await mintDevToken(config.auth, { role: 'clinician' }, devSecretFile);
  const post = async (query: string, variables: Record<string, unknown>) => {
    const res = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as { data?: any; errors?: { extensions?: { code?: string; source?: string } }[] };
    return { status: res.status, data: body.data, errors: body.errors ?? [] };
  };
  return { gw, config, post };
}

/** Unified ids of the first N patients, looked up by Mercy MRN, ALIASES to a request. */
async function resolveIds(post: Awaited<ReturnType<typeof gatewayFor>>['post'], sandbox: Sandbox, n: number): Promise<string[]> {
  const mrns = sandbox.truth.patients.slice(0, n).flatMap((p) => (p.ehrs.mercy ? [p.ehrs.mercy.mrn] : []));
  const ids: string[] = [];
  for (let i = 0; i < mrns.length; i += ALIASES) {
    const part = mrns.slice(i, i + ALIASES);
    const query = `query { ${part.map((m, j) => `p${j}: patientByIdentifier(system: "http://mercy.example/fhir/mrn", value: ${JSON.stringify(m)}) { id }`).join(' ')} }`;
    const res = await post(query, {});
    for (let j = 0; j < part.length; j++) if (res.data?.[`p${j}`]?.id) ids.push(res.data[`p${j}`].id);
  }
  return ids;
}

async function linksOf(gw: Gateway, ids: string[]): Promise<Map<string, string[]>> {
  const links = await gw.services.index.linksForUnified(ids);
  const bySource = new Map<string, string[]>();
  for (const rows of links.values()) for (const r of rows) bySource.set(r.sourceId, [...(bySource.get(r.sourceId) ?? []), r.sourcePatientId]);
  return bySource;
}

/** The floor: the gateway's upstream calls for the dashboard, made directly, all at once. */
async function floor(config: ChartgraphConfig, links: Map<string, string[]>, clients: Map<string, FhirClient>): Promise<void> {
  await Promise.all(
    fhirSources(config).map(async (s) => {
      let client = clients.get(s.id);
      if (!client) clients.set(s.id, (client = new FhirClient(s)));
      const ids = links.get(s.id) ?? [];
      if (ids.length === 0) return;
      await Promise.all(FHIR_TYPES.map((t) => searchForPatients(client, t, ids, [])));
    }),
  );
}

/** First-page requests of one dashboard at each EHR against the bound for its capabilities. */
async function callsAgainstBound(
  ehrs: [string, SimulatedEhr][],
  links: Map<string, string[]>,
  clients: Map<string, FhirClient>,
): Promise<{ lines: string[]; ok: boolean }> {
  const lines: string[] = [];
  let ok = true;
  for (const [id, ehr] of ehrs) {
    const linked = links.get(id) ?? [];
    const client = clients.get(id)!;
    const caps = await client.getCapabilities();
    const entries = ehr.requests.entries;
    const keys = entries.map((r) => `${r.method} ${r.path} ${JSON.stringify(r.params)} ${JSON.stringify(r.batchEntries?.map((e) => [e.resourceType, e.params, e.id]))}`);
    const dupes = keys.length - new Set(keys).size;
    for (const type of FHIR_TYPES) {
      const first = entries.filter((r) => r.interaction === 'search' && !r.page && r.resourceType === type).length;
      const batches = entries.filter((r) => r.interaction === 'batch' && r.batchEntries?.[0]?.resourceType === type).length;
      const pages = entries.filter((r) => r.interaction === 'search' && r.page && r.resourceType === type).length;
      const bound = caps.patientOrSearch
        ? chunkOrValues(client, type, patientSearchParam(type), linked.map(escapeSearchValue), [], caps).length
        : caps.batch
          ? Math.ceil(linked.length / client.source.maxBatchEntries)
          : linked.length;
      const made = first + batches;
      if (made > bound) ok = false;
      lines.push(`| ${id} (${caps.patientOrSearch ? 'OR lists' : caps.batch ? 'batch' : 'one per patient'}) | ${type} | ${made} | ${bound} | ${pages} |`);
    }
    if (dupes > 0) ok = false;
    const seenKeys = new Set<string>();
    const dupeKinds = new Map<string, number>();
    entries.forEach((r, i) => {
      if (seenKeys.has(keys[i]!)) dupeKinds.set(`${r.interaction} ${r.resourceType ?? r.path}${r.page ? ' (next page)' : ''}`, (dupeKinds.get(`${r.interaction} ${r.resourceType ?? r.path}${r.page ? ' (next page)' : ''}`) ?? 0) + 1);
      seenKeys.add(keys[i]!);
    });
    lines.push(`| ${id} | duplicate requests | ${dupes} | 0 | ${[...dupeKinds].map(([k, n]) => `${k}: ${n}`).join(', ')} |`);
  }
  return { lines, ok };
}

/** Runs the scenario and returns its report lines (markdown) and figures. */
export async function runDashboardScale(opts: DashboardScaleOptions): Promise<DashboardScaleResult> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cg-dash-'));
  const started = performance.now();
  const sandboxOpts = { maxPatients: opts.patients, minPatients: opts.patients, latencyMs: opts.latencyMs };
  const a = await startSandbox(sandboxOpts);
  const b = await startSandbox({ ...sandboxOpts, profiles: { mercy: { patientOrSearch: false, batch: false } } });
  const sandboxSeconds = (performance.now() - started) / 1000;
  const county = { ...b.sourcesConfig()[0]!, id: 'county', name: 'County General' };
  const sources = [...a.sourcesConfig(), county] as unknown as Record<string, unknown>[];
  const cold = await gatewayFor(sources, { defaultTtlSeconds: 0, staleWhileRevalidateSeconds: 0, staleIfErrorSeconds: 0 }, dir, 'cold');
  // Warm runs measure execution from the cached copies: the response cache (on by default) would answer the repeats whole.
  const warm = await gatewayFor(sources, { defaultTtlSeconds: 3600, responseMaxAgeSeconds: 0 }, dir, 'warm');
  const ehrs: [string, SimulatedEhr][] = [['mercy', a.ehr('mercy')], ['stjude', a.ehr('stjude')], ['county', b.ehr('mercy')]];
  const progress = (what: string) => console.error(`[dashboard-scale ${opts.patients}] ${what} at ${((performance.now() - started) / 1000).toFixed(1)} s`);
  progress('sandboxes and gateways up');
  try {
    const ids = await resolveIds(cold.post, a, opts.patients);
    progress(`${ids.length} patients resolved`);
    const links = await linksOf(cold.gw, ids);
    const clients = new Map<string, FhirClient>();
    await floor(cold.config, links, clients); // connections and /metadata, as the gateway has them

    progress('floor warmed');
    // Upstream calls of one cold dashboard against the bound.
    for (const [, e] of ehrs) e.resetRequests();
    const probe = await cold.post(DASHBOARD, { ids });
    const bound = await callsAgainstBound(ehrs, links, clients);
    let coldErrors = probe.errors.length + (probe.status === 200 ? 0 : 1);
    const wrong = (probe.data?.patients ?? []).filter((p: any) => !p || TYPES.some((t) => typeof p[t]?.totalCount !== 'number')).length;

    progress('first cold dashboard');
    // Cold, paired with the floor and interleaved.
    const gwMs: number[] = [];
    const floorMs: number[] = [];
    const rss: number[] = [];
    for (let r = 0; r < opts.runs; r++) {
      let t0 = performance.now();
      const res = await cold.post(DASHBOARD, { ids });
      gwMs.push(performance.now() - t0);
      coldErrors += res.errors.length + (res.status === 200 ? 0 : 1);
      t0 = performance.now();
      await floor(cold.config, links, clients);
      floorMs.push(performance.now() - t0);
      global.gc?.();
      rss.push(mib());
    }
    const diffs = gwMs.map((g, i) => g - floorMs[i]!);
    const ratios = gwMs.map((g, i) => g / floorMs[i]!);

    progress('cold runs');
    // Warm: one run fills the cache; the writes land after the answer.
    await resolveIds(warm.post, a, opts.patients);
    const warmFill = await warm.post(DASHBOARD, { ids });
    let warmErrors = warmFill.errors.length;
    await new Promise((r) => setTimeout(r, 3000));
    const warmMs: number[] = [];
    for (let r = 0; r < Math.max(3, opts.runs); r++) {
      const t0 = performance.now();
      const res = await warm.post(DASHBOARD, { ids });
      warmMs.push(performance.now() - t0);
      warmErrors += res.errors.length + (res.status === 200 ? 0 : 1);
    }
    const breakers = fhirSources(cold.config).map((s) => `${s.id} ${cold.gw.services.clients.get(s.id)!.breakerState}`).join(', ');

    const lines = [
      `### Dashboard of ${ids.length} patients x 5 types over 3 EHRs, ${opts.latencyMs} ms upstream latency`,
      '',
      `Command: \`node --expose-gc dist/bench/dashboard-scale.js --patients ${opts.patients} --runs ${opts.runs} --latency ${opts.latencyMs}\`. Sandbox of ${opts.patients} patients started twice in ${sandboxSeconds.toFixed(1)} s.`,
      '',
      '| measure | value |',
      '|---|---|',
      `| cold, gateway, median of ${opts.runs} | ${median(gwMs).toFixed(0)} ms (${spread(gwMs)}) |`,
      `| cold, floor (same upstream calls, direct), median | ${median(floorMs).toFixed(0)} ms (${spread(floorMs)}) |`,
      `| cold, paired difference gateway - floor, median | ${median(diffs).toFixed(0)} ms (${spread(diffs)}) |`,
      `| cold, paired ratio gateway / floor, median (target <= 1.5) | ${median(ratios).toFixed(2)} (${spread(ratios, 2)}) |`,
      `| warm (cache), median of ${warmMs.length} (target < 500 ms) | ${median(warmMs).toFixed(0)} ms (${spread(warmMs)}) |`,
      `| GraphQL errors, cold runs (target 0) | ${coldErrors} |`,
      `| GraphQL errors, warm runs (target 0) | ${warmErrors} |`,
      `| patients with a missing list or count | ${wrong} |`,
      `| breakers after the runs | ${breakers} |`,
      `| RSS after each cold run (MiB, gc'd; gateway, sandbox and floor in one process) | ${rss.map((x) => x.toFixed(0)).join(', ')} |`,
      `| upstream first-page calls within the bound | ${bound.ok ? 'yes' : 'NO'} |`,
      '',
      '| source | resource type | first-page calls (searches + batches) | bound | next pages |',
      '|---|---|---|---|---|',
      ...bound.lines,
      '',
    ];
    return {
      lines,
      cold: { medianMs: median(gwMs), floorMedianMs: median(floorMs), ratio: median(ratios), errors: coldErrors, withinBound: bound.ok },
      warm: { medianMs: median(warmMs), errors: warmErrors },
      rssMiB: rss,
    };
  } finally {
    await Promise.all([cold.gw.close(), warm.gw.close()]);
    await Promise.all([a.close(), b.close()]);
    await rm(dir, { recursive: true, force: true });
  }
}

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const result = await runDashboardScale({ patients: flag('--patients', 200), runs: flag('--runs', 3), latencyMs: flag('--latency', 20) });
  console.log(result.lines.join('\n'));
}
