import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TruthPatient } from '../../sandbox/index.js';
import { SSN_SYSTEM } from '../../sandbox/index.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

// The walking skeleton over real HTTP: two simulated EHRs (mercy accepts OR lists and needs
// SMART Backend Services; stjude does neither, but offers rest-hook Subscriptions), the
// gateway on PGlite, dev tokens. The event feed is off: a notification URL alone must not make
// the gateway subscribe at St. Jude (the upstream call counts below stay exact).

const MERCY_PAGE = 100; // min(config pageSize 100, mercy maxCount 100)
const STJUDE_PAGE = 50; // stjude maxCount

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway({ sourceOptions: { timeoutMs: 1500 }, events: { notificationBaseUrl: 'http://127.0.0.1:9' } });
});
afterAll(async () => t?.close());

const bothWithSsn = () =>
  t.sandbox.truth.patients.filter(
    (p) => p.ssn && p.ehrs.mercy?.hasSsn && p.ehrs.stjude?.hasSsn && p.ehrs.mercy.counts.Condition && p.ehrs.stjude.counts.Observation,
  );

const RECORD = `
  id
  name { family given }
  sourceRecords { source { id } sourcePatientId matchMethod }
  conditions(first: 1000) { totalCount nodes { id code { coding { code } } provenance { source { id name } sourceResourceId stale } } }
  observations(first: 1000) { totalCount nodes { provenance { source { id } sourceResourceId } } }
`;

function provenanceCount(conn: { nodes: { provenance: { source: { id: string } }[] }[] }, source: string): number {
  return conn.nodes.flatMap((n) => n.provenance).filter((p) => p.source.id === source).length;
}

describe('a patient across two EHRs', () => {
  let patient: TruthPatient;
  let unifiedId: string;

  it('is found by SSN as one patient whose conditions and observations come from both EHRs, each naming its source', async () => {
    patient = bothWithSsn()[0]!;
    expect(patient, 'the fixtures hold a patient with an SSN in both EHRs').toBeDefined();
    const res = await t.query(`query($v: String!) { patientByIdentifier(system: "${SSN_SYSTEM}", value: $v) { ${RECORD} } }`, { v: patient.ssn }, 'admin');
    expect(res.errors).toBeUndefined();
    const p = res.data.patientByIdentifier;
    unifiedId = p.id;
    expect(p.sourceRecords.map((r: any) => [r.source.id, r.sourcePatientId, r.matchMethod]).sort()).toEqual([
      ['mercy', patient.ehrs.mercy!.patientId, 'identifier'],
      ['stjude', patient.ehrs.stjude!.patientId, 'identifier'],
    ]);
    // Every source item is accounted for exactly once across the provenance lists.
    for (const [type, conn] of [['Condition', p.conditions], ['Observation', p.observations]] as const) {
      expect(provenanceCount(conn, 'mercy')).toBe(patient.ehrs.mercy!.counts[type] ?? 0);
      expect(provenanceCount(conn, 'stjude')).toBe(patient.ehrs.stjude!.counts[type] ?? 0);
      expect(conn.totalCount).toBe(conn.nodes.length);
    }
    const someCondition = p.conditions.nodes[0];
    expect(someCondition.provenance[0]).toMatchObject({ source: { name: expect.any(String) }, stale: false });
    expect(someCondition.id).toBe(`${someCondition.provenance[0].source.id}/Condition/${someCondition.provenance[0].sourceResourceId}`);
  });

  it('is the same unified patient when looked up by either EHR’s MRN', async () => {
    for (const ehr of ['mercy', 'stjude'] as const) {
      const system = t.sandbox.ehr(ehr).baseUrl && (ehr === 'mercy' ? 'http://mercy.example/fhir/mrn' : 'http://stjude.example/fhir/mrn');
      const res = await t.query(`query($s: String!, $v: String!) { patientByIdentifier(system: $s, value: $v) { id } }`, {
        s: system,
        v: patient.ehrs[ehr]!.mrn,
      });
      expect(res.errors).toBeUndefined();
      expect(res.data.patientByIdentifier.id).toBe(unifiedId);
    }
  });

  it('merges an item both EHRs report into one, with both provenances', async () => {
    const withShared = t.sandbox.truth.patients.find((p) => p.sharedItems > 0 && p.ssn && p.ehrs.mercy?.hasSsn && p.ehrs.stjude?.hasSsn);
    expect(withShared).toBeDefined();
    const res = await t.query(
      `query($v: String!) { patientByIdentifier(system: "${SSN_SYSTEM}", value: $v) {
        conditions(first: 1000) { nodes { provenance { source { id } } } }
        observations(first: 1000) { nodes { provenance { source { id } } } }
        encounters(first: 1000) { nodes { provenance { source { id } } } }
        procedures(first: 1000) { nodes { provenance { source { id } } } }
        immunizations(first: 1000) { nodes { provenance { source { id } } } }
        medicationRequests(first: 1000) { nodes { provenance { source { id } } } }
        diagnosticReports(first: 1000) { nodes { provenance { source { id } } } }
        allergies(first: 1000) { nodes { provenance { source { id } } } }
      } }`,
      { v: withShared!.ssn },
      'admin',
    );
    expect(res.errors).toBeUndefined();
    const nodes = Object.values(res.data.patientByIdentifier).flatMap((c: any) => c.nodes);
    const twoSourced = nodes.filter((n: any) => new Set(n.provenance.map((x: any) => x.source.id)).size === 2);
    expect(twoSourced.length).toBe(withShared!.sharedItems);
  });

  it('returns null, not an error, for an identifier no source knows', async () => {
    const res = await t.query(`{ patientByIdentifier(system: "${SSN_SYSTEM}", value: "000-00-0000") { id } }`, undefined, 'billing');
    expect(res.errors).toBeUndefined();
    expect(res.data.patientByIdentifier).toBeNull();
  });
});

describe('a 20-patient dashboard', () => {
  let ids: string[];
  let truth: TruthPatient[];

  beforeAll(async () => {
    truth = t.sandbox.truth.patients.filter((p) => p.ehrs.mercy).slice(0, 20);
    expect(truth).toHaveLength(20);
    ids = [];
    for (const p of truth) {
      const res = await t.query(`query($v: String!) { patientByIdentifier(system: "http://mercy.example/fhir/mrn", value: $v) { id } }`, {
        v: p.ehrs.mercy!.mrn,
      });
      ids.push(res.data.patientByIdentifier.id);
    }
  });

  const DASHBOARD = `query($ids: [ID!]!) { patients(ids: $ids) { id sourceRecords { source { id } sourcePatientId } conditions { totalCount } observations { totalCount } } }`;

  it('makes exactly one search per type and page on the OR-capable EHR and one batch per type on the other', async () => {
    t.resetCounts();
    const res = await t.query(DASHBOARD, { ids });
    expect(res.errors).toBeUndefined();
    expect(res.data.patients.map((p: any) => p.id)).toEqual(ids);

    const sum = (type: string, ehr: 'mercy' | 'stjude') => truth.reduce((n, p) => n + (p.ehrs[ehr]?.counts[type] ?? 0), 0);
    const mercy = t.sandbox.ehr('mercy').requests.countByResourceType();
    expect(mercy).toEqual({
      Patient: 1, // _id=a,b,... in one chunk
      Condition: Math.max(1, Math.ceil(sum('Condition', 'mercy') / MERCY_PAGE)),
      Observation: Math.max(1, Math.ceil(sum('Observation', 'mercy') / MERCY_PAGE)),
    });

    // Only stjude records linked into these patients are searched (linking is the identity
    // layer's business; the batching is under test here).
    const linked = new Set(res.data.patients.flatMap((p: any) => p.sourceRecords.map((r: any) => `${r.source.id}/${r.sourcePatientId}`)));
    const inStjude = truth.filter((p) => p.ehrs.stjude && linked.has(`stjude/${p.ehrs.stjude.patientId}`));
    expect(inStjude.length).toBeGreaterThan(5);
    const perPatientPages = (type: string) =>
      inStjude.reduce((n, p) => n + Math.max(1, Math.ceil((p.ehrs.stjude!.counts[type] ?? 0) / STJUDE_PAGE)), 0);
    // St. Jude takes no OR lists but accepts FHIR batch: one Bundle per type (Patient reads
    // included), one entry per patient; only the pages after each entry's first are GETs.
    const batches = t.sandbox.ehr('stjude').requests.entries.filter((r) => r.interaction === 'batch');
    expect(batches).toHaveLength(3);
    const entryTypes = batches.map((b) => [...new Set(b.batchEntries!.map((e) => e.resourceType))]).sort();
    expect(entryTypes).toEqual([['Condition'], ['Observation'], ['Patient']]);
    for (const b of batches) expect(b.batchEntries).toHaveLength(inStjude.length);
    expect(batches.flatMap((b) => b.batchEntries!.map((e) => e.status))).toEqual(batches.flatMap((b) => b.batchEntries!.map(() => 200)));
    const stjude = t.sandbox.ehr('stjude').requests.countByResourceType();
    const later = (type: string) => perPatientPages(type) - inStjude.length;
    expect(stjude).toEqual({
      ...(later('Condition') > 0 && { Condition: later('Condition') }),
      ...(later('Observation') > 0 && { Observation: later('Observation') }),
    });
    expect(t.sandbox.token.requests.count()).toBe(0); // the SMART token is still cached

    // No upstream call twice in one request.
    for (const ehr of t.sandbox.ehrs) {
      const keys = ehr.requests.entries.map((r) => `${r.method} ${r.path} ${JSON.stringify(r.params)} ${JSON.stringify(r.batchEntries?.map((e) => [e.resourceType, e.params, e.id]))}`);
      expect(new Set(keys).size).toBe(keys.length);
    }
  });

  it('answers with the counts the EHRs hold, in the order asked, null for an unknown id', async () => {
    const unknown = '00000000-0000-4000-8000-000000000000';
    const res = await t.query(DASHBOARD, { ids: [ids[1], unknown, ids[0]] });
    expect(res.errors).toBeUndefined();
    expect(res.data.patients[0].id).toBe(ids[1]);
    expect(res.data.patients[1]).toBeNull();
    expect(res.data.patients[2].id).toBe(ids[0]);
  });
});

describe('partial results when an EHR fails', () => {
  let id: string;
  let patient: TruthPatient;
  const Q = `query($id: ID!) { patient(id: $id) { id sourceRecords { source { id } } conditions(first: 1000) { totalCount nodes { provenance { source { id } } } } } }`;

  beforeAll(async () => {
    patient = bothWithSsn()[1] ?? bothWithSsn()[0]!;
    const res = await t.query(`query($v: String!) { patientByIdentifier(system: "${SSN_SYSTEM}", value: $v) { id } }`, { v: patient.ssn }, 'admin');
    id = res.data.patientByIdentifier.id;
  });

  afterEach(async () => {
    for (const ehr of t.sandbox.ehrs) await ehr.clearFaults();
  });

  it('keeps mercy’s data and names stjude when stjude is down', async () => {
    await t.sandbox.ehr('stjude').setFaults({ down: '503' });
    const res = await t.query(Q, { id });
    const conditions = res.data.patient.conditions;
    expect(provenanceCount(conditions, 'mercy')).toBe(patient.ehrs.mercy!.counts.Condition ?? 0);
    expect(provenanceCount(conditions, 'stjude')).toBe(0);
    const codes = res.errors!.map((e) => [e.extensions!.code, e.extensions!.source, e.path!.join('.')]);
    expect(codes).toContainEqual(['UPSTREAM_UNAVAILABLE', 'stjude', 'patient.conditions']);
    expect(codes.every(([code, source]) => code === 'UPSTREAM_UNAVAILABLE' && source === 'stjude')).toBe(true);
  });

  it('keeps stjude’s data and names mercy when mercy times out, within the deadline', async () => {
    await t.sandbox.ehr('mercy').setFaults({ hang: true });
    const started = Date.now();
    const res = await t.query(Q, { id });
    expect(Date.now() - started).toBeLessThan(1500 * 2 + 1000);
    const conditions = res.data.patient.conditions;
    expect(provenanceCount(conditions, 'stjude')).toBe(patient.ehrs.stjude!.counts.Condition ?? 0);
    expect(provenanceCount(conditions, 'mercy')).toBe(0);
    expect(res.errors!.map((e) => [e.extensions!.code, e.extensions!.source])).toContainEqual(['UPSTREAM_TIMEOUT', 'mercy']);
  });

  it('with one EHR down and the other timing out, still answers the linked records and names both failures', async () => {
    await t.sandbox.ehr('stjude').setFaults({ down: 'reset' });
    await t.sandbox.ehr('mercy').setFaults({ hang: true });
    const res = await t.query(Q, { id });
    expect(res.data.patient.id).toBe(id);
    expect(res.data.patient.sourceRecords.map((r: any) => r.source.id).sort()).toEqual(['mercy', 'stjude']);
    expect(res.data.patient.conditions.totalCount).toBe(0);
    const bySource = Object.fromEntries(res.errors!.filter((e) => e.path!.at(-1) === 'conditions').map((e) => [e.extensions!.source, e.extensions!.code]));
    expect(bySource).toEqual({ mercy: 'UPSTREAM_TIMEOUT', stjude: 'UPSTREAM_UNAVAILABLE' });
  });
});

describe('authentication and permissions', () => {
  it('answers 401 UNAUTHENTICATED without a token and with a forged one', async () => {
    const none = await t.query('{ sources { id } }', undefined, null);
    expect(none.status).toBe(401);
    expect(none.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
    const forged = await t.query('{ sources { id } }', undefined, null, { authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJyb2xlIjoiYWRtaW4ifQ.' });
    expect(forged.status).toBe(401);
    expect(forged.errors![0]!.message).toBe(none.errors![0]!.message);
  });

  it('denies billing the clinical lists but gives it demographics, and hides the SSN from clinicians', async () => {
    const p = bothWithSsn()[0]!;
    const q = `query($v: String!) { patientByIdentifier(system: "${SSN_SYSTEM}", value: $v) { id identifiers { system value } conditions { totalCount } } }`;
    const billing = await t.query(q, { v: p.ssn }, 'billing');
    expect(billing.data.patientByIdentifier).toBeNull(); // conditions is non-null, so the denial nulls the patient
    expect(billing.errors!.map((e) => [e.extensions!.code, e.path!.join('.')])).toEqual([['FORBIDDEN', 'patientByIdentifier.conditions']]);

    // Clinicians may not look up by SSN (an SSN oracle); by MRN they see every identifier but it.
    const byMrn = `query($v: String!) { patientByIdentifier(system: "http://mercy.example/fhir/mrn", value: $v) { id identifiers { system value } conditions { totalCount } } }`;
    const bySsn = await t.query(q, { v: p.ssn }, 'clinician');
    expect(bySsn.errors!.map((e) => e.extensions!.code)).toEqual(['FORBIDDEN']);
    const clinician = await t.query(byMrn, { v: p.ehrs.mercy!.mrn }, 'clinician');
    expect(clinician.errors).toBeUndefined();
    const systems = clinician.data.patientByIdentifier.identifiers.map((i: any) => i.system);
    expect(systems).not.toContain(SSN_SYSTEM);
    expect(systems).toEqual(expect.arrayContaining(['http://mercy.example/fhir/mrn', 'http://stjude.example/fhir/mrn']));

    const billingIds = await t.query(`query($v: String!) { patientByIdentifier(system: "${SSN_SYSTEM}", value: $v) { identifiers { system value } } }`, { v: p.ssn }, 'billing');
    expect(billingIds.data.patientByIdentifier.identifiers).toContainEqual({ system: SSN_SYSTEM, value: p.ssn });
  });

  it('lists the sources with their capabilities', async () => {
    const res = await t.query('{ sources { id name kind status capabilities { fhirVersion patientOrSearch maxCount } } }', undefined, 'analyst');
    expect(res.errors).toBeUndefined();
    expect(res.data.sources).toEqual([
      { id: 'mercy', name: 'Mercy Hospital', kind: 'fhir', status: 'UP', capabilities: { fhirVersion: '4.0.1', patientOrSearch: true, maxCount: 100 } },
      { id: 'stjude', name: 'St. Jude Medical Center', kind: 'fhir', status: expect.any(String), capabilities: { fhirVersion: '4.0.1', patientOrSearch: false, maxCount: 50 } },
    ]);
  });
});

describe('the event feed, off', () => {
  it('creates no Subscription at the EHR that offers them, and polls nothing', async () => {
    const stjude = t.sandbox.ehr('stjude');
    const offered = await (await fetch(`${stjude.baseUrl}/metadata`)).json();
    expect(offered.rest[0].resource.map((r: any) => r.type)).toContain('Subscription');
    expect(stjude.restHooks.active).toBe(0);
    for (const ehr of t.sandbox.ehrs) expect(ehr.requests.entries.filter((r) => r.resourceType === 'Subscription')).toEqual([]);
    expect(await t.gateway.services.database.prisma.eventSourceSubscription.count()).toBe(0);
    expect(await t.gateway.services.database.prisma.eventCursor.count()).toBe(0);
  });
});

describe('HTTP', () => {
  it('marks GraphQL answers no-store and names the request', async () => {
    const res = await fetch(`${t.gateway.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await t.token('clinician')}`, 'x-request-id': 'http-test-0001' },
      body: JSON.stringify({ query: '{ sources { id } }' }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('x-request-id')).toBe('http-test-0001');
  });
});

describe('health endpoints', () => {
  it('answer without a token: /healthz alive, /readyz with the database, migrations and each source', async () => {
    expect(await (await fetch(`${t.gateway.url}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${t.gateway.url}/readyz`);
    expect(ready.status).toBe(200);
    const body = await ready.json();
    expect(body).toMatchObject({ status: 'ready', database: 'ok', pendingMigrations: 0 });
    expect(body.sources.map((s: any) => [s.id, s.breaker])).toEqual([
      ['mercy', 'closed'],
      ['stjude', 'closed'],
    ]);
  });
});
