import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SSN_SYSTEM, type TruthPatient } from '../../sandbox/index.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

// The resource cache as users see it: fresh hits cost no upstream call, copies past their
// TTL are served (marked stale) while refreshing or when the source fails, and admins can
// drop what is cached.

function gatewayWith(cache: Record<string, number>): Promise<TestGateway> {
  return startTestGateway({ sandbox: { maxPatients: 6 }, cache, sourceOptions: { timeoutMs: 1000, resilience: { retries: 0 } } });
}

const Q = `query($v: String!) { patientByIdentifier(system: "${SSN_SYSTEM}", value: $v) {
  id conditions(first: 1000) { totalCount nodes { provenance { source { id } stale fetchedAt } } } } }`;

function linkedPatient(t: TestGateway): TruthPatient {
  return t.sandbox.truth.patients.find((p) => p.ssn && p.ehrs.mercy?.hasSsn && p.ehrs.stjude?.hasSsn && p.ehrs.mercy.counts.Condition)!;
}

/** Cache writes happen after the answer; wait until the searches of this query are stored. */
async function cached(t: TestGateway, searches: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if ((await t.gateway.services.database.prisma.cachedSearch.count({ where: { resourceType: 'Condition' } })) >= searches) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('cache write did not land');
}

const conditionSearches = (t: TestGateway) =>
  t.sandbox.ehrs.reduce((n, e) => n + e.requests.count({ resourceType: 'Condition', interaction: 'search' }), 0);

describe('fresh cache hits', () => {
  let t: TestGateway;
  beforeAll(async () => (t = await gatewayWith({ defaultTtlSeconds: 300 })));
  afterAll(async () => t?.close());

  it('answer a repeat query without any upstream search, with the first fetch time', async () => {
    const p = linkedPatient(t);
    const first = await t.query(Q, { v: p.ssn }, 'admin');
    expect(first.errors).toBeUndefined();
    await cached(t, 2);
    t.resetCounts();
    const again = await t.query(Q, { v: p.ssn }, 'admin');
    expect(again.errors).toBeUndefined();
    expect(conditionSearches(t)).toBe(0);
    expect(again.data.patientByIdentifier.conditions).toEqual(first.data.patientByIdentifier.conditions);
  });

  it('are dropped by an admin, for one patient, and the next read goes upstream', async () => {
    const p = linkedPatient(t);
    const { data } = await t.query(Q, { v: p.ssn }, 'admin');
    const denied = await t.query('mutation($id: ID) { invalidateCache(patientId: $id) { searches } }', { id: data.patientByIdentifier.id }, 'clinician');
    expect(denied.errors![0]!.extensions!.code).toBe('FORBIDDEN');

    const res = await t.query('mutation($id: ID) { invalidateCache(patientId: $id) { searches } }', { id: data.patientByIdentifier.id }, 'admin');
    expect(res.errors).toBeUndefined();
    expect(res.data.invalidateCache.searches).toBeGreaterThanOrEqual(2); // Condition in both sources, at least
    t.resetCounts();
    await t.query(Q, { v: p.ssn }, 'admin');
    expect(conditionSearches(t)).toBe(2);
  });

  it('refuses an invalidation that names nothing', async () => {
    const res = await t.query('mutation { invalidateCache { searches } }', undefined, 'admin');
    expect(res.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
  });
});

describe('stale-if-error', () => {
  let t: TestGateway;
  beforeAll(async () => (t = await gatewayWith({ defaultTtlSeconds: 0, staleWhileRevalidateSeconds: 0, staleIfErrorSeconds: 3600 })));
  afterAll(async () => t?.close());
  afterEach(async () => {
    for (const e of t.sandbox.ehrs) await e.clearFaults();
  });

  it('serves the expired copy marked stale, without an error, when the source fails', async () => {
    const p = linkedPatient(t);
    const first = await t.query(Q, { v: p.ssn }, 'admin');
    await cached(t, 2);
    const fromMercy = (r: any) => r.data.patientByIdentifier.conditions.nodes.filter((n: any) => n.provenance[0].source.id === 'mercy');
    expect(fromMercy(first).every((n: any) => n.provenance[0].stale === false)).toBe(true);

    await t.sandbox.ehr('mercy').setFaults({ status: 503, resourceTypes: ['Condition'] });
    const res = await t.query(Q, { v: p.ssn }, 'admin');
    expect(res.errors).toBeUndefined();
    const stale = fromMercy(res);
    expect(stale).toHaveLength(fromMercy(first).length);
    expect(stale.every((n: any) => n.provenance[0].stale === true)).toBe(true);
    expect(stale[0].provenance[0].fetchedAt).toBe(fromMercy(first)[0].provenance[0].fetchedAt);
  });
});

describe('stale-while-revalidate', () => {
  let t: TestGateway;
  beforeAll(async () => (t = await gatewayWith({ defaultTtlSeconds: 0, staleWhileRevalidateSeconds: 3600, staleIfErrorSeconds: 3600 })));
  afterAll(async () => t?.close());

  it('answers from the expired copy at once and refreshes it in the background', async () => {
    const p = linkedPatient(t);
    await t.query(Q, { v: p.ssn }, 'admin');
    await cached(t, 2);
    const before = await t.gateway.services.database.prisma.cachedSearch.findMany({ where: { resourceType: 'Condition' } });
    t.resetCounts();
    // The refresh answers slowly; the query must not wait for it.
    for (const e of t.sandbox.ehrs) await e.setFaults({ latencyMs: 400, resourceTypes: ['Condition'] });
    const started = Date.now();
    const res = await t.query(Q, { v: p.ssn }, 'admin');
    expect(Date.now() - started).toBeLessThan(400);
    expect(res.data.patientByIdentifier.conditions.nodes.every((n: any) => n.provenance[0].stale)).toBe(true);
    for (let i = 0; i < 100 && conditionSearches(t) < 2; i++) await new Promise((r) => setTimeout(r, 20));
    expect(conditionSearches(t)).toBe(2); // one background refresh per source
    for (let i = 0; i < 100; i++) {
      const after = await t.gateway.services.database.prisma.cachedSearch.findMany({ where: { resourceType: 'Condition' } });
      if (after.every((a) => a.fetchedAt > before[0]!.fetchedAt)) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error('the background refresh did not store a new copy');
  });
});
