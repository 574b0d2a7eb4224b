import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TruthPatient } from '../../sandbox/index.js';
import type { Explanation } from '../../server/plugins/explain.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

// Explain: a request that asks gets an account of its upstream calls in
// `extensions.explain`, which must agree exactly with what the sandbox EHRs saw.

let t: TestGateway;
beforeAll(async () => {
  // A TTL so that the second identical query is served from the cache.
  t = await startTestGateway({ cache: { defaultTtlSeconds: 600 } });
}, 120_000);
afterAll(async () => t?.close());

const DASHBOARD = `query Dashboard($ids: [ID!]!) { patients(ids: $ids) { id sourceRecords { source { id } sourcePatientId } conditions { totalCount } observations { totalCount } } }`;

async function post(body: Record<string, unknown>, headers: Record<string, string> = {}, role: 'clinician' | 'analyst' = 'clinician') {
  const res = await fetch(`${t.gateway.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${await t.token(role)}`, ...headers },
    body: JSON.stringify(body),
  });
  return (await res.json()) as { data?: any; errors?: unknown[]; extensions?: { explain?: Explanation } };
}

describe('explain', () => {
  let truth: TruthPatient[];
  let ids: string[];

  beforeAll(async () => {
    truth = t.sandbox.truth.patients.filter((p) => p.ehrs.mercy).slice(0, 20);
    expect(truth).toHaveLength(20);
    ids = [];
    for (const p of truth) {
      const res = await t.query(`query($v: String!) { patientByIdentifier(system: "http://mercy.example/fhir/mrn", value: $v) { id } }`, { v: p.ehrs.mercy!.mrn });
      ids.push(res.data.patientByIdentifier.id);
    }
  }, 30_000);

  it('is absent unless asked for', async () => {
    // No patient fields, so nothing lands in the cache for the tests below.
    const res = await post({ query: '{ sources { id } }' });
    expect(res.errors).toBeUndefined();
    expect(res.extensions?.explain).toBeUndefined();
  });

  it('is never given to analysts: the sources asked about a pseudonymous patient say which hospitals hold them', async () => {
    const asked = { query: '{ sources { id } }' };
    expect((await post(asked, { 'x-chartgraph-explain': '1' })).extensions?.explain).toBeDefined();
    const analyst = await post(asked, { 'x-chartgraph-explain': '1' }, 'analyst');
    expect(analyst.errors).toBeUndefined();
    expect(analyst.extensions?.explain).toBeUndefined();
  });

  it('accounts for every upstream call of a 20-patient dashboard exactly as the EHRs saw them', async () => {
    t.resetCounts();
    const res = await post({ query: DASHBOARD, variables: { ids } }, { 'X-Chartgraph-Explain': '1' });
    expect(res.errors).toBeUndefined();
    const explain = res.extensions!.explain!;

    // Per source, the pages by resource type are the EHR's own request log.
    for (const ehr of ['mercy', 'stjude'] as const) {
      const seen = seenPages(t.sandbox.ehr(ehr));
      expect(explain.bySource.find((s) => s.source === ehr)?.pagesByResourceType).toEqual(seen);
    }
    // The list is exactly the calls the process-wide hook saw, with no URL or patient data.
    const strip = ({ sourceId, resourceType, interaction, pages, patients, status, outcome }: (typeof t.calls)[number]) => ({
      source: sourceId,
      resourceType,
      interaction,
      pages,
      ...(patients !== undefined && { patients }),
      ...(status !== undefined && { status }),
      outcome,
    });
    expect(explain.list.filter((e) => e.cache === 'hit' && e.resourceType !== 'Patient')).toEqual([]);
    const listed = explain.list.filter((e) => e.cache !== 'hit').map(({ ms, cache, ...rest }) => {
      expect(ms).toBeGreaterThanOrEqual(0);
      return rest;
    });
    const order = (a: { source: string; resourceType: string }, b: { source: string; resourceType: string }) =>
      `${a.source}/${a.resourceType}`.localeCompare(`${b.source}/${b.resourceType}`);
    expect([...listed].sort(order)).toEqual(t.calls.map(strip).sort(order));
    expect(explain.calls).toBe(t.calls.length);
    expect(explain.pages).toBe(t.calls.reduce((n, c) => n + c.pages, 0));

    // Mercy takes OR lists: one Patient search and one search per clinical type (and page), all 20 patients each.
    const mercy = explain.list.filter((e) => e.source === 'mercy');
    for (const type of ['Condition', 'Observation']) {
      expect(mercy.filter((e) => e.resourceType === type)).toEqual([expect.objectContaining({ interaction: 'search', patients: 20, cache: 'miss', outcome: 'ok' })]);
    }

    // Every patient's Condition and Observation searches missed the (empty) cache.
    const linked = new Set(res.data.patients.flatMap((p: any) => p.sourceRecords.map((r: any) => `${r.source.id}/${r.sourcePatientId}`)));
    const inStjude = truth.filter((p) => p.ehrs.stjude && linked.has(`stjude/${p.ehrs.stjude.patientId}`)).length;
    const clinical = (s: Explanation['bySource'][number]) => ({ Condition: s.cacheByResourceType.Condition, Observation: s.cacheByResourceType.Observation });
    expect(explain.bySource.map((s) => [s.source, clinical(s), s.errors])).toEqual([
      ['mercy', { Condition: { hits: 0, misses: 20 }, Observation: { hits: 0, misses: 20 } }, 0],
      ['stjude', { Condition: { hits: 0, misses: inStjude }, Observation: { hits: 0, misses: inStjude } }, 0],
    ]);
    expect(explain.cache).toEqual({
      hits: explain.bySource.reduce((n, s) => n + s.cacheHits, 0),
      misses: explain.bySource.reduce((n, s) => n + s.cacheMisses, 0),
    });

    const text = JSON.stringify(explain);
    expect(text).not.toMatch(/https?:/);
    for (const p of truth) {
      expect(text).not.toContain(p.ehrs.mercy!.patientId);
      expect(text).not.toContain(p.ehrs.mercy!.mrn);
    }
  });

  it('shows cache hits, and no clinical searches, when the same query is asked again (request extension)', async () => {
    const clinicalMisses = (e: Explanation) =>
      e.bySource.reduce((n, s) => n + (s.cacheByResourceType.Condition?.misses ?? 0) + (s.cacheByResourceType.Observation?.misses ?? 0), 0);
    // Cache writes finish after the response; ask until the first answer's results are all stored.
    let explain: Explanation | undefined;
    for (let i = 0; i < 50; i++) {
      t.resetCounts();
      const res = await post({ query: DASHBOARD, variables: { ids }, extensions: { explain: true } });
      expect(res.errors).toBeUndefined();
      explain = res.extensions!.explain!;
      if (clinicalMisses(explain) === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const mercy = explain!.bySource.find((s) => s.source === 'mercy')!;
    const stjude = explain!.bySource.find((s) => s.source === 'stjude')!;
    expect(mercy.cacheByResourceType.Condition).toEqual({ hits: 20, misses: 0 });
    expect(mercy.cacheByResourceType.Observation).toEqual({ hits: 20, misses: 0 });
    const inStjude = stjude.cacheByResourceType.Condition!.hits;
    expect(inStjude).toBeGreaterThan(5);
    expect(stjude.cacheByResourceType.Observation).toEqual({ hits: inStjude, misses: 0 });
    // No clinical search reaches the EHRs now; what does (patient lookups) is listed exactly.
    for (const [ehr, summary] of [['mercy', mercy], ['stjude', stjude]] as const) {
      const seen = seenPages(t.sandbox.ehr(ehr));
      expect(seen.Condition).toBeUndefined();
      expect(seen.Observation).toBeUndefined();
      expect(summary.pagesByResourceType).toEqual(seen);
    }
    const hits = explain!.list.filter((e) => e.cache === 'hit' && e.resourceType !== 'Patient');
    expect(hits.map((e) => `${e.source}/${e.resourceType}`).sort()).toEqual(['mercy/Condition', 'mercy/Observation', 'stjude/Condition', 'stjude/Observation']);
    expect(hits.find((e) => e.source === 'mercy' && e.resourceType === 'Condition')).toMatchObject({ patients: 20, pages: 0, interaction: 'search', outcome: 'ok' });
    expect(explain!.calls).toBe(t.calls.length);
  });
});

/** Pages as an EHR saw them: GETs by resource type, and each batch Bundle as one page of its entries' type. */
function seenPages(ehr: { requests: { entries: { interaction: string; batchEntries?: { resourceType?: string }[] }[]; countByResourceType(): Record<string, number> } }): Record<string, number> {
  const seen = ehr.requests.countByResourceType();
  for (const b of ehr.requests.entries.filter((r) => r.interaction === 'batch')) {
    const type = b.batchEntries?.[0]?.resourceType;
    if (type) seen[type] = (seen[type] ?? 0) + 1;
  }
  return seen;
}
