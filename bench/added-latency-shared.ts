import path from 'node:path';
import { pino } from 'pino';
import { parseConfig } from '../config/load-config.js';
import { fhirSources, type ChartgraphConfig } from '../config/config.schema.js';
import { FhirClient } from '../datasources/fhir/fhir-client.js';
import { searchForPatients } from '../datasources/fhir/patient-batch.js';
import { startSandbox, type Sandbox } from '../sandbox/index.js';
import { startGateway, type Gateway } from '../server/app.js';
import { mintDevToken } from '../server/auth.js';

// What bench/run.ts (sections 1 and 2) and bench/added-latency.ts share: the upstreams, a
// gateway over them, the two queries, the direct-call floor and the paired timing.

export const UPSTREAM_LATENCY_MS = 20;
export const DASHBOARD_PATIENTS = 50;
export const TYPES = ['conditions', 'observations', 'medicationRequests', 'encounters', 'immunizations'] as const;
export const FHIR_TYPES = ['Condition', 'Observation', 'MedicationRequest', 'Encounter', 'Immunization'];

export const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
export const sortNum = (xs: number[]) => [...xs].sort((a, b) => a - b);
export const ms = (x: number) => `${x.toFixed(1)} ms`;

/**
 * Gateway and floor timed in pairs, interleaved (A, B, A, B), so that a slow moment of the
 * machine lands on both; the answer is the median of the paired differences, with its spread.
 * CPU time (user + system, of this whole process: gateway and sandbox) is taken per side too.
 */
export async function paired(times: number, gateway: () => Promise<void>, floor: () => Promise<void>) {
  const gw: number[] = [];
  const fl: number[] = [];
  const gwCpu: number[] = [];
  const flCpu: number[] = [];
  const cpuMs = (c: NodeJS.CpuUsage) => (c.user + c.system) / 1000;
  for (let i = 0; i < times; i++) {
    let c0 = process.cpuUsage();
    let t0 = performance.now();
    await gateway();
    gw.push(performance.now() - t0);
    gwCpu.push(cpuMs(process.cpuUsage(c0)));
    c0 = process.cpuUsage();
    t0 = performance.now();
    await floor();
    fl.push(performance.now() - t0);
    flCpu.push(cpuMs(process.cpuUsage(c0)));
  }
  const diffs = sortNum(gw.map((g, i) => g - fl[i]!));
  const cpuDiffs = sortNum(gwCpu.map((g, i) => g - flCpu[i]!));
  return {
    gw: sortNum(gw),
    floor: sortNum(fl),
    diffs,
    median: pct(diffs, 50),
    spread: `${ms(diffs[0]!)} to ${ms(diffs.at(-1)!)}`,
    gwCpu: sortNum(gwCpu),
    floorCpu: sortNum(flCpu),
    /** Median of the paired CPU differences: the gateway's own CPU per request, steadier than wall time on a busy machine. */
    cpuMedian: pct(cpuDiffs, 50),
  };
}

export async function timeIt(times: number, fn: () => Promise<void>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < times; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return sortNum(out);
}

/** Three EHRs: the sandbox's two, and a second sandbox's OR-capable EHR as "county". */
export async function upstreams(patients = DASHBOARD_PATIENTS): Promise<{ a: Sandbox; b: Sandbox; sources: Record<string, unknown>[] }> {
  const opts = { minPatients: patients, latencyMs: UPSTREAM_LATENCY_MS };
  const a = await startSandbox(opts);
  const b = await startSandbox(opts);
  const county = { ...b.sourcesConfig()[0]!, id: 'county', name: 'County General' };
  return { a, b, sources: [...a.sourcesConfig(), county] };
}

export type Post = (query: string, variables: Record<string, unknown>) => Promise<any>;

export async function gateway(sources: Record<string, unknown>[], cache: Record<string, unknown>, dir: string, name: string, withoutSecurity = false) {
  const config = parseConfig({
    server: { port: 0, logLevel: 'silent' },
    cache: { url: `pglite:${path.join(dir, name)}`, ...cache },
    auth: { mode: 'dev' },
    limits: { rateLimit: { perMinute: 10_000_000 } },
    sources,
  });
  const devSecretFile = path.join(dir, 'dev-secret');
  const gw = await startGateway(config, { logger: pino({ level: 'silent' }), port: 0, devSecretFile, withoutSecurity });
  const token = await mintDevToken(config.auth, { role: 'clinician' }, devSecretFile);
  const post: Post = async (query, variables) => {
    const res = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as { data?: any; errors?: unknown[] };
    if (body.errors) throw new Error(`bench query failed: ${JSON.stringify(body.errors).slice(0, 300)}`);
    return body.data;
  };
  return { gw, config, token, post };
}

/** The cold gateway of the added-latency rows: nothing kept (TTL 0, no stale windows). */
export const COLD_CACHE = { defaultTtlSeconds: 0, staleWhileRevalidateSeconds: 0, staleIfErrorSeconds: 0 };

export async function resolveIds(post: Post, a: Sandbox, patients = DASHBOARD_PATIENTS): Promise<string[]> {
  const ids: string[] = [];
  for (const p of a.truth.patients.slice(0, patients)) {
    const data = await post('query($v: String!) { patientByIdentifier(system: "http://mercy.example/fhir/mrn", value: $v) { id } }', {
      v: p.ehrs.mercy!.mrn,
    });
    ids.push(data.patientByIdentifier.id);
  }
  return ids;
}

export const DASHBOARD = `query($ids: [ID!]!) { patients(ids: $ids) { id ${TYPES.map((t) => `${t}(first: 1) { totalCount }`).join(' ')} } }`;
export const ONE = `query($id: ID!) { patient(id: $id) { id name { text } ${TYPES.map((t) => `${t}(first: 20) { totalCount nodes { id } }`).join(' ')} } }`;

/**
 * The latency floor: the upstream calls the gateway makes for the query, made directly and
 * all at once with the same HTTP client; no GraphQL, identity, mapping or cache. Patient
 * reads only when the query asks for demographics (the gateway makes none otherwise).
 */
export async function directCalls(config: ChartgraphConfig, links: Map<string, string[]>, withPatients: boolean): Promise<void> {
  await Promise.all(
    fhirSources(config).map(async (s) => {
      const client = floorClients.get(s.id) ?? floorClients.set(s.id, new FhirClient(s)).get(s.id)!;
      const ids = links.get(s.id) ?? [];
      if (ids.length === 0) return;
      const caps = await client.getCapabilities();
      const patients: Promise<unknown>[] = !withPatients
        ? []
        : caps.patientOrSearch && ids.length > 1
          ? [client.search('Patient', [['_id', ids.join(',')]])]
          : ids.map((id) => client.read('Patient', id));
      const searches: Promise<unknown>[] = FHIR_TYPES.map((t) => searchForPatients(client, t, ids, []));
      await Promise.all([...patients, ...searches]);
    }),
  );
}
const floorClients = new Map<string, FhirClient>();

export async function sourceLinks(gw: Gateway, ids: string[]): Promise<Map<string, string[]>> {
  const links = await gw.services.index.linksForUnified(ids);
  const bySource = new Map<string, string[]>();
  for (const rows of links.values()) for (const r of rows) bySource.set(r.sourceId, [...(bySource.get(r.sourceId) ?? []), r.sourcePatientId]);
  return bySource;
}
