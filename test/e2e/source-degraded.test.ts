import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SourceHealth } from '../../datasources/source-health.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

// Slow is not UP: a source whose answers are slow (p90 over `sourceHealth.degradedLatencyMs`)
// or often failing (over `degradedErrorRate`) shows DEGRADED in `sources`, /readyz and
// /metrics, while the others stay UP.

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway({
    config: (sources) => ({
      server: { port: 0, logLevel: 'silent' },
      cache: { url: 'pglite:memory:', defaultTtlSeconds: 0, staleWhileRevalidateSeconds: 0, staleIfErrorSeconds: 0 },
      auth: { mode: 'dev' },
      // Well above what a busy machine adds to a fast source's answers.
      sourceHealth: { windowSeconds: 60, degradedLatencyMs: 1500, degradedErrorRate: 0.2 },
      sources: (sources as Record<string, unknown>[]).map((s) => ({ ...s, resilience: { retries: 0, breakerFailures: 50 } })),
    }),
  });
}, 60_000);
afterAll(async () => t?.close());

const SOURCES = '{ sources { id status } }';

async function statuses() {
  const res = await t.query<{ sources: { id: string; status: string }[] }>(SOURCES);
  return Object.fromEntries(res.data!.sources.map((s) => [s.id, s.status]));
}

async function readyz() {
  return (await (await fetch(`${t.gateway.url}/readyz`)).json()) as { sources: { id: string; status: string; p90Ms: number | null; errorRate: number | null }[] };
}

async function metric(source: string, status: string): Promise<number> {
  const text = await (await fetch(`${t.gateway.url}/metrics`)).text();
  const m = new RegExp(`^chartgraph_source_status\\{source="${source}",status="${status}"\\} (\\d+)$`, 'm').exec(text);
  return Number(m![1]);
}

function lookup(i: number) {
  const p = t.sandbox.truth.patients.filter((x) => x.ehrs.stjude)[i % 5]!;
  return t.query(`query($v: String!) { patientByIdentifier(system: "http://stjude.example/fhir/mrn", value: $v) { id } }`, { v: p.ehrs.stjude!.mrn });
}

describe('DEGRADED sources', () => {
  it('a slow source is DEGRADED in sources, /readyz and metrics; a fast one stays UP', async () => {
    await lookup(0);
    expect(await statuses()).toEqual({ mercy: 'UP', stjude: 'UP' });
    await t.sandbox.ehr('stjude').setFaults({ resourceTypes: ['Patient'], latencyMs: 1800 });
    await lookup(1);
    await lookup(2);
    expect(await statuses()).toEqual({ mercy: 'UP', stjude: 'DEGRADED' });
    const ready = await readyz();
    const stjude = ready.sources.find((s) => s.id === 'stjude')!;
    expect(stjude.status).toBe('DEGRADED');
    expect(stjude.p90Ms).toBeGreaterThanOrEqual(1800);
    expect(ready.sources.find((s) => s.id === 'mercy')!.status).toBe('UP');
    expect(await metric('stjude', 'DEGRADED')).toBe(1);
    expect(await metric('stjude', 'UP')).toBe(0);
    expect(await metric('mercy', 'UP')).toBe(1);
    await t.sandbox.ehr('stjude').setFaults([]);
  }, 60_000);

  it('a source failing often is DEGRADED even when its last call succeeded; DOWN while its last call failed', async () => {
    const ehr = t.sandbox.ehr('mercy');
    await ehr.setFaults({ status: 503, resourceTypes: ['Patient'] });
    for (let i = 0; i < 8; i++) {
      const failing = await t.query(`query($v: String!) { patientByIdentifier(system: "http://mercy.example/fhir/mrn", value: $v) { id } }`, { v: `no-such-mrn-${i}` });
      expect(failing.errors?.map((e) => [e.extensions?.code, e.extensions?.source])).toContainEqual(['UPSTREAM_UNAVAILABLE', 'mercy']);
    }
    expect((await statuses()).mercy).toBe('DOWN');
    await ehr.setFaults([]);
    const report = () => t.gateway.services.health.report('mercy');
    await lookup(0);
    expect(report().errorRate).toBeGreaterThan(0.2);
    // Enough good calls to outnumber the failures 4:1 bring it back to UP, not before.
    while (report().errorRate! > 0.2) {
      expect((await statuses()).mercy).toBe('DEGRADED');
      await lookup(0);
    }
    expect((await statuses()).mercy).toBe('UP');
  }, 60_000);
});

describe('SourceHealth', () => {
  it('forgets calls older than the window', () => {
    const h = new SourceHealth({ windowSeconds: 60, degradedLatencyMs: 1000 });
    const long = new Date(Date.now() - 120_000);
    h.record({ sourceId: 'a', outcome: 'ok', ms: 5000, pages: 1 }, long);
    h.record({ sourceId: 'a', outcome: 'ok', ms: 100, pages: 1 });
    expect(h.report('a')).toMatchObject({ status: 'UP', p90Ms: 100, errorRate: 0, calls: 1 });
    // Latency is per exchange: ten pages in 5 s are not slow.
    h.record({ sourceId: 'b', outcome: 'ok', ms: 5000, pages: 10 });
    expect(h.report('b')).toMatchObject({ status: 'UP', p90Ms: 500 });
    h.record({ sourceId: 'b', outcome: 'ok', ms: 3000, pages: 1 });
    expect(h.report('b').status).toBe('DEGRADED');
    expect(h.report('c')).toEqual({ status: 'UNKNOWN', at: null, p90Ms: null, errorRate: null, calls: 0 });
  });
});
