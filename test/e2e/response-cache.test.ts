import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { until } from '../helpers/until.js';

// The response cache as users see it: a repeat of a query answered from fresh cached copies
// is given again without running it, to the same user only, audited per request, and only
// for as long as the copies under it are fresh.

const BY_MRN = `query($s: String!, $v: String!) { patientByIdentifier(system: $s, value: $v) { id } }`;
const CHART = `query Chart($id: ID!) { patient(id: $id) { id name { text } conditions(first: 5) { totalCount nodes { id code { text } } } observations(first: 5) { totalCount nodes { id } } } }`;

async function counter(t: TestGateway, outcome: 'hit' | 'stored'): Promise<number> {
  const text = await (await fetch(`${t.gateway.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`chartgraph_response_cache_total{outcome="${outcome}"}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

const upstreamRequests = (t: TestGateway) => t.sandbox.ehrs.reduce((n, e) => n + e.requests.count(), 0);

async function patientId(t: TestGateway): Promise<string> {
  const p = t.sandbox.truth.patients.find((x) => x.ehrs.mercy && x.ehrs.mercy.counts.Condition)!;
  const res = await t.query(BY_MRN, { s: t.sandbox.sourcesConfig().find((s) => s.id === 'mercy')!.mrnSystem, v: p.ehrs.mercy!.mrn }, 'admin');
  expect(res.errors).toBeUndefined();
  return res.data.patientByIdentifier.id;
}

/** Asks until the answer is given from the response cache: the first asks fetch, and the cache writes land after their answers. */
async function askUntilKept(t: TestGateway, id: string): Promise<void> {
  await until('an answer given from the response cache', async () => {
    const hits = await counter(t, 'hit');
    const res = await t.query(CHART, { id }, 'clinician');
    expect(res.errors).toBeUndefined();
    return (await counter(t, 'hit')) > hits;
  }, 10_000);
}

describe('response cache', () => {
  let t: TestGateway;
  let id: string;
  beforeAll(async () => {
    t = await startTestGateway({ sandbox: { maxPatients: 6 }, cache: { defaultTtlSeconds: 300, responseMaxAgeSeconds: 10 } });
    id = await patientId(t);
  });
  afterAll(async () => t?.close());

  it('gives a repeat the same answer without a source or execution, with an audit event of its own', async () => {
    await askUntilKept(t, id);
    const first = await t.query(CHART, { id }, 'clinician');
    const hits = await counter(t, 'hit');
    t.resetCounts();
    const again = await t.query(CHART, { id }, 'clinician', { 'x-request-id': 'response-cache-hit-0001' });
    expect(again.status).toBe(200);
    expect(again.data).toEqual(first.data);
    expect(await counter(t, 'hit')).toBe(hits + 1);
    expect(upstreamRequests(t)).toBe(0);

    await t.gateway.services.auditWriter.flush();
    const events = await t.gateway.services.database.prisma.auditEvent.findMany({ where: { requestId: 'response-cache-hit-0001' } });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ subject: 'dev-clinician', role: 'clinician', action: 'read', outcome: 'success', patientIds: [id] });
    expect(events[0]!.detail).toMatchObject({ operationName: 'Chart', responseCache: 'hit' });
  });

  it('gives a kept answer to no other role, purpose of use or variables', async () => {
    await askUntilKept(t, id);
    const hits = await counter(t, 'hit');
    expect((await t.query(CHART, { id }, 'care_coordinator')).status).toBe(200);
    expect((await t.query(CHART, { id }, 'clinician', { 'x-purpose-of-use': 'HPAYMT' })).errors).toBeUndefined();
    expect((await t.query(CHART, { id: `${id.slice(0, -1)}${id.endsWith('0') ? '1' : '0'}` }, 'clinician')).status).toBe(200);
    expect(await counter(t, 'hit')).toBe(hits);
  });

  it('keeps no answer with an error, nor one that asks a payer', async () => {
    const stored = await counter(t, 'stored');
    // Billing may not read conditions: FORBIDDEN on that field, every time.
    for (let i = 0; i < 3; i++) expect((await t.query(CHART, { id }, 'billing')).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const coverage = `query($id: ID!) { patient(id: $id) { id coverage { status } } }`;
    for (let i = 0; i < 3; i++) expect((await t.query(coverage, { id }, 'admin')).status).toBe(200);
    expect(await counter(t, 'stored')).toBe(stored);
  });

  it('is not emptied by a mutation refused before it ran, and never answers a persisted query with a wrong hash', async () => {
    await askUntilKept(t, id);
    const refused = await t.query('mutation($id: ID) { invalidateCache(patientId: $id) { searches } }', { id }, 'clinician');
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const hits = await counter(t, 'hit');
    expect((await t.query(CHART, { id }, 'clinician')).errors).toBeUndefined();
    expect(await counter(t, 'hit')).toBe(hits + 1);

    const res = await fetch(`${t.gateway.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await t.token('clinician')}` },
      body: JSON.stringify({ query: CHART, variables: { id }, extensions: { persistedQuery: { version: 1, sha256Hash: 'ab'.repeat(32) } } }),
    });
    expect(res.status).toBe(400);
    expect(await counter(t, 'hit')).toBe(hits + 1);
  });

  it('runs a request whose variables nest deeper than a key can be made of, without an error', async () => {
    const res = await fetch(`${t.gateway.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await t.token('clinician')}` },
      body: `{"query":"{ __typename }","variables":{"a":${'['.repeat(20_000)}${']'.repeat(20_000)}}}`,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: { __typename: 'Query' } });
  });

  it('is emptied by a mutation: after an admin drops the patient\'s cached copies, the next ask goes to the sources', async () => {
    await askUntilKept(t, id);
    const dropped = await t.query('mutation($id: ID) { invalidateCache(patientId: $id) { searches } }', { id }, 'admin');
    expect(dropped.errors).toBeUndefined();
    const hits = await counter(t, 'hit');
    t.resetCounts();
    expect((await t.query(CHART, { id }, 'clinician')).errors).toBeUndefined();
    expect(await counter(t, 'hit')).toBe(hits);
    expect(upstreamRequests(t)).toBeGreaterThan(0);
  });
});

describe('response cache and links made on this replica', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ sandbox: { maxPatients: 6 }, cache: { defaultTtlSeconds: 300, responseMaxAgeSeconds: 10 } });
  });
  afterAll(async () => t?.close());

  it('drops the answers about a patient whose links change here, and keeps the others', async () => {
    const id = await patientId(t);
    await askUntilKept(t, id);
    // A look-up that links another person leaves this patient's answer alone.
    const other = t.sandbox.truth.patients.filter((x) => x.ehrs.stjude).at(-1)!;
    const linked = await t.query(BY_MRN, { s: t.sandbox.sourcesConfig().find((s) => s.id === 'stjude')!.mrnSystem, v: other.ehrs.stjude!.mrn }, 'admin');
    expect(linked.errors).toBeUndefined();
    expect(linked.data.patientByIdentifier.id).not.toBe(id);
    let hits = await counter(t, 'hit');
    expect((await t.query(CHART, { id }, 'clinician')).errors).toBeUndefined();
    expect(await counter(t, 'hit')).toBe(hits + 1);
    // A record joining this patient (as a look-up or the event poller links one) drops it.
    const [record] = (await t.gateway.services.index.linksForUnified([id])).get(id)!;
    await t.gateway.services.index.linkRecords([
      { sourceId: record!.sourceId, sourcePatientId: record!.sourcePatientId, method: 'identifier' },
      { sourceId: 'stjude', sourcePatientId: 'joins-later-1', method: 'identifier' },
    ]);
    hits = await counter(t, 'hit');
    const after = await t.query(CHART, { id }, 'clinician');
    expect(await counter(t, 'hit')).toBe(hits);
    expect(after.status).toBe(200);
  });
});

describe('response cache and the TTL of the copies under an answer', () => {
  let t: TestGateway;
  let id: string;
  beforeAll(async () => {
    t = await startTestGateway({ sandbox: { maxPatients: 6 }, cache: { defaultTtlSeconds: 300, ttlSeconds: { Condition: 4 }, responseMaxAgeSeconds: 10 } });
    id = await patientId(t);
  });
  afterAll(async () => t?.close());

  it('keeps an answer only until the first copy under it expires', async () => {
    await askUntilKept(t, id);
    const hits = await counter(t, 'hit');
    expect((await t.query(CHART, { id }, 'clinician')).errors).toBeUndefined();
    expect(await counter(t, 'hit')).toBe(hits + 1);
    await new Promise((r) => setTimeout(r, 4_100));
    t.resetCounts();
    expect((await t.query(CHART, { id }, 'clinician')).errors).toBeUndefined();
    expect(await counter(t, 'hit')).toBe(hits + 1);
    expect(t.sandbox.ehrs.reduce((n, e) => n + e.requests.count({ resourceType: 'Condition' }), 0)).toBeGreaterThan(0);
  });
});

describe('response cache and links kept in memory', () => {
  let t: TestGateway;
  let id: string;
  beforeAll(async () => {
    t = await startTestGateway({
      sandbox: { maxPatients: 6 },
      config: (sources) => ({
        server: { port: 0, logLevel: 'silent' },
        cache: { url: 'pglite:memory:', defaultTtlSeconds: 300 },
        identity: { linkCacheSeconds: 5 },
        auth: { mode: 'dev' },
        sources,
      }),
    });
    id = await patientId(t);
  });
  afterAll(async () => t?.close());

  it('keeps an answer no longer than the links it was built from: another replica\'s change shows when it would without it', async () => {
    // This first ask reads the patient's links into memory, for 5 s from some moment between these two.
    const before = Date.now();
    expect((await t.query(CHART, { id }, 'clinician')).errors).toBeUndefined();
    const after = Date.now();
    const other = CHART.replace('query Chart', 'query ChartAgain');
    await new Promise((r) => setTimeout(r, Math.max(0, before + 4_000 - Date.now())));
    // A new answer (its lists cached by the first ask) from links with a second or less to live.
    const stored = await counter(t, 'stored');
    expect((await t.query(other, { id }, 'clinician')).errors).toBeUndefined();
    expect(await counter(t, 'stored')).toBe(stored + 1);
    await new Promise((r) => setTimeout(r, Math.max(0, after + 5_300 - Date.now())));
    const hits = await counter(t, 'hit');
    expect((await t.query(other, { id }, 'clinician')).errors).toBeUndefined();
    expect(await counter(t, 'hit')).toBe(hits);
  });
});

describe('response cache off', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ sandbox: { maxPatients: 4 }, cache: { defaultTtlSeconds: 300, responseMaxAgeSeconds: 0 } });
  });
  afterAll(async () => t?.close());

  it('runs every request with `cache.responseMaxAgeSeconds: 0`', async () => {
    const id = await patientId(t);
    for (let i = 0; i < 4; i++) expect((await t.query(CHART, { id }, 'clinician')).errors).toBeUndefined();
    expect(await counter(t, 'stored')).toBe(0);
    expect(await counter(t, 'hit')).toBe(0);
  });
});
