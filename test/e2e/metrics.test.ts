import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Explanation } from '../../server/plugins/explain.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

// /metrics over HTTP after real queries: the series must count exactly the calls made.

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway({ cache: { defaultTtlSeconds: 600 } });
}, 120_000);
afterAll(async () => t?.close());

/** Prometheus text format → `name{a="x",b="y"}` (labels sorted) → value. */
async function scrape(): Promise<Map<string, number>> {
  const res = await fetch(`${t.gateway.url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const out = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels = [...(m[2] ?? '').matchAll(/([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/g)].map(([, k, v]) => `${k}="${v}"`).sort();
    out.set(`${m[1]}{${labels.join(',')}}`, Number(m[3]));
  }
  return out;
}

function key(name: string, labels: Record<string, string>): string {
  return `${name}{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).sort().join(',')}}`;
}

const PATIENT = `query OnePatient($v: String!) { patientByIdentifier(system: "http://mercy.example/fhir/mrn", value: $v) { id conditions { totalCount } observations { totalCount } } }`;

describe('/metrics', () => {
  it('counts requests by operation, upstream calls by source, type and outcome, cache hits and misses, and source status', async () => {
    const patient = t.sandbox.truth.patients.find((p) => p.ehrs.mercy && p.ehrs.stjude && p.ssn && p.ehrs.mercy.hasSsn && p.ehrs.stjude.hasSsn)!;
    const before = await scrape();
    // Nothing has called a source yet.
    expect(before.get(key('chartgraph_source_status', { source: 'mercy', status: 'UNKNOWN' }))).toBe(1);
    expect(before.get(key('chartgraph_source_status', { source: 'mercy', status: 'UP' }))).toBe(0);

    // Every request asks for an explanation, so the cache counters can be checked exactly.
    const cacheSeen = new Map<string, { hits: number; misses: number }>();
    const ask = async () => {
      const res = await fetch(`${t.gateway.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${await t.token('clinician')}`, 'x-chartgraph-explain': '1' },
        body: JSON.stringify({ query: PATIENT, variables: { v: patient.ehrs.mercy!.mrn }, operationName: 'OnePatient' }),
      });
      const body = (await res.json()) as { errors?: unknown; extensions: { explain: Explanation } };
      expect(body.errors).toBeUndefined();
      for (const s of body.extensions.explain.bySource) {
        for (const [type, c] of Object.entries(s.cacheByResourceType)) {
          const seen = cacheSeen.get(`${s.source}/${type}`) ?? { hits: 0, misses: 0 };
          cacheSeen.set(`${s.source}/${type}`, { hits: seen.hits + c.hits, misses: seen.misses + c.misses });
        }
      }
      return body.extensions.explain;
    };
    const first = await ask();
    // The patient is in both EHRs: its Condition and Observation searches miss in both.
    for (const s of first.bySource) {
      expect([s.source, s.cacheByResourceType.Condition, s.cacheByResourceType.Observation]).toEqual([s.source, { hits: 0, misses: 1 }, { hits: 0, misses: 1 }]);
    }
    // Ask again until the first answer's cache writes are all in (they finish after the response).
    let asked = 1;
    for (let i = 0; i < 50; i++) {
      const explain = await ask();
      asked++;
      if (explain.bySource.every((s) => !s.cacheByResourceType.Condition?.misses && !s.cacheByResourceType.Observation?.misses)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const m = await scrape();

    expect(m.get(key('chartgraph_graphql_request_duration_seconds_count', { operation: 'OnePatient', outcome: 'ok' }))).toBe(asked);

    // Upstream calls: exactly what the process-wide hook saw, per label set.
    const expected = new Map<string, number>();
    for (const c of t.calls) {
      const k = key('chartgraph_upstream_calls_total', { source: c.sourceId, resource_type: c.resourceType || 'token', interaction: c.interaction, outcome: c.outcome });
      expected.set(k, (expected.get(k) ?? 0) + 1);
    }
    const actual = new Map([...m].filter(([k]) => k.startsWith('chartgraph_upstream_calls_total{')));
    expect(actual).toEqual(expected);
    // And the pages are the EHRs' own request logs.
    for (const ehr of ['mercy', 'stjude'] as const) {
      for (const [type, n] of Object.entries(t.sandbox.ehr(ehr).requests.countByResourceType())) {
        expect(m.get(key('chartgraph_upstream_pages_total', { source: ehr, resource_type: type })), `${ehr} ${type}`).toBe(n);
      }
    }
    // One patient in each EHR: the first query misses Condition and Observation in both.
    for (const source of ['mercy', 'stjude']) {
      for (const type of ['Condition', 'Observation']) {
        const labels = { source, resource_type: type };
        expect(m.get(key('chartgraph_upstream_calls_total', { ...labels, interaction: 'search', outcome: 'ok' }))).toBe(t.calls.filter((c) => c.sourceId === source && c.resourceType === type).length);
        expect(m.get(key('chartgraph_upstream_call_duration_seconds_count', { ...labels, interaction: 'search' }))).toBe(t.calls.filter((c) => c.sourceId === source && c.resourceType === type).length);
      }
    }
    // Cache hits and misses: exactly what the explanations reported, per source and type.
    for (const [k, seen] of cacheSeen) {
      const [source, type] = k.split('/') as [string, string];
      expect(m.get(key('chartgraph_cache_hits_total', { source, resource_type: type })) ?? 0, `${k} hits`).toBe(seen.hits);
      expect(m.get(key('chartgraph_cache_misses_total', { source, resource_type: type })) ?? 0, `${k} misses`).toBe(seen.misses);
    }
    const sum = (name: string) => [...m].filter(([k]) => k.startsWith(`${name}{`)).reduce((n, [, v]) => n + v, 0);
    expect(sum('chartgraph_cache_hits_total')).toBe([...cacheSeen.values()].reduce((n, c) => n + c.hits, 0));
    expect(sum('chartgraph_cache_misses_total')).toBe([...cacheSeen.values()].reduce((n, c) => n + c.misses, 0));
    // One patient per request: each request looked mercy's Conditions up once.
    const mercyConditions = cacheSeen.get('mercy/Condition')!;
    expect(mercyConditions.hits + mercyConditions.misses).toBe(asked);
    expect(m.get(key('chartgraph_cache_hits_total', { source: 'mercy', resource_type: 'Condition' }))).toBeGreaterThanOrEqual(1);

    expect(m.get(key('chartgraph_source_status', { source: 'mercy', status: 'UP' }))).toBe(1);
    expect(m.get(key('chartgraph_source_status', { source: 'stjude', status: 'UP' }))).toBe(1);
    expect(m.get(key('chartgraph_source_status', { source: 'mercy', status: 'UNKNOWN' }))).toBe(0);
  });

  it('has a registry per gateway, and no patient data in any label', async () => {
    const other = await startTestGateway();
    try {
      const res = await fetch(`${other.gateway.url}/metrics`);
      const text = await res.text();
      expect(text).not.toContain('OnePatient');
    } finally {
      await other.close();
    }
    const text = await (await fetch(`${t.gateway.url}/metrics`)).text();
    // Every identifying value the served queries touched: MRNs of both EHRs, SSNs, ids.
    for (const p of t.sandbox.truth.patients) {
      for (const ehr of Object.values(p.ehrs)) {
        expect(text).not.toContain(ehr!.mrn);
        expect(text).not.toContain(ehr!.patientId);
      }
      if (p.ssn) expect(text).not.toContain(p.ssn);
    }
  }, 120_000);
});
