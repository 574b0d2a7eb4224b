import type { Patient } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../datasources/cache/database.js';
import { FhirStore } from '../../sandbox/fhir-store.js';
import { SimulatedEhr } from '../../sandbox/fhir-server.js';
import { DEFAULT_PROFILES } from '../../sandbox/profiles.js';
import type { TruthPatient } from '../../sandbox/index.js';
import { createTestDatabase, type TestDatabaseHandle } from '../helpers/databases.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

// The master patient index end to end: demographic linking across the sandbox EHRs, links
// that survive a restart, two replicas on one PostgreSQL racing for the same new patient,
// twins kept apart, and the audited admin mutations.

const MRN = { mercy: 'http://mercy.example/fhir/mrn', stjude: 'http://stjude.example/fhir/mrn' } as const;
const BY_MRN = `query($s: String!, $v: String!) { patientByIdentifier(system: $s, value: $v) {
  id name { given family } sourceRecords { source { id } sourcePatientId matchMethod matchScore } } }`;

const gatewayConfig = (url: string) => (sources: unknown[]) => ({
  server: { port: 0, logLevel: 'silent' },
  cache: { url, defaultTtlSeconds: 0 },
  auth: { mode: 'dev' },
  sources,
});

/** Fixture patients that St. Jude holds under a nickname and without SSN. */
function nicknameNoSsn(truth: readonly TruthPatient[]): TruthPatient[] {
  return truth.filter((p) => p.ehrs.stjude?.nickname && !p.ehrs.stjude.hasSsn && p.ehrs.mercy);
}

describe('a patient split across the sandbox EHRs, nickname and no SSN in one (PGlite, restart)', () => {
  let db: TestDatabaseHandle;
  let t: TestGateway;
  let patient: TruthPatient;
  let unifiedId: string;

  beforeAll(async () => {
    db = await createTestDatabase('pglite');
    t = await startTestGateway({ sandbox: { maxPatients: 12 }, config: gatewayConfig(db.url) });
    patient = nicknameNoSsn(t.sandbox.truth.patients)[0]!;
  });
  afterAll(async () => {
    await t?.close();
    await db?.dispose();
  });

  it('is one patient with two source records, looked up by the St. Jude MRN', async () => {
    expect(patient, 'the fixtures hold such a patient').toBeDefined();
    const res = await t.query(BY_MRN, { s: MRN.stjude, v: patient.ehrs.stjude!.mrn });
    expect(res.errors).toBeUndefined();
    const p = res.data.patientByIdentifier;
    unifiedId = p.id;
    const records = Object.fromEntries(p.sourceRecords.map((r: any) => [r.source.id, r]));
    expect(Object.keys(records).sort()).toEqual(['mercy', 'stjude']);
    expect(records.stjude).toMatchObject({ sourcePatientId: patient.ehrs.stjude!.patientId, matchMethod: 'identifier', matchScore: null });
    expect(records.mercy).toMatchObject({ sourcePatientId: patient.ehrs.mercy!.patientId, matchMethod: 'demographic' });
    expect(records.mercy.matchScore).toBeGreaterThanOrEqual(t.config.identity.autoLinkThreshold);
    // Found by demographic searches in Mercy (family name and birth year; first name and birth date), not by identifier.
    const demographic = t.sandbox.ehr('mercy').requests.entries.filter((r) => r.resourceType === 'Patient' && r.params.some(([k]) => k === 'family' || k === 'given'));
    expect(demographic.map((r) => r.params.map(([k]) => k).sort()).sort()).toEqual([
      ['_count', 'birthdate', 'birthdate', 'family'],
      ['_count', 'birthdate', 'given'],
    ]);
  });

  it('is the same patient by the Mercy MRN, without another search of St. Jude', async () => {
    t.resetCounts();
    const res = await t.query(BY_MRN, { s: MRN.mercy, v: patient.ehrs.mercy!.mrn });
    expect(res.errors).toBeUndefined();
    expect(res.data.patientByIdentifier.id).toBe(unifiedId);
    expect(res.data.patientByIdentifier.sourceRecords).toHaveLength(2);
    const stjudeSearches = t.sandbox.ehr('stjude').requests.entries.filter((r) => r.interaction === 'search');
    expect(stjudeSearches.filter((r) => r.resourceType === 'Patient')).toHaveLength(1); // the identifier search only
  });

  it('is found by searchPatients from the index, without searching the EHRs', async () => {
    t.resetCounts();
    const res = await t.query(`query($n: String!) { searchPatients(name: $n) { totalCount nodes { id } } }`, {
      n: familyOf(patient),
    });
    expect(res.errors).toBeUndefined();
    expect(res.data.searchPatients.nodes.map((n: any) => n.id)).toContain(unifiedId);
    // Answered from the index: no Patient search reached either EHR.
    for (const ehr of t.sandbox.ehrs) expect(ehr.requests.entries.filter((r) => r.interaction === 'search' && r.resourceType === 'Patient')).toEqual([]);
  });

  it('keeps its links and unified id across a restart', async () => {
    await t.close();
    t = await startTestGateway({ sandbox: { maxPatients: 12 }, config: gatewayConfig(db.url) });
    const again = await t.query(`query($id: ID!) { patient(id: $id) { id sourceRecords { source { id } matchMethod } } }`, { id: unifiedId });
    expect(again.errors).toBeUndefined();
    expect(again.data.patient.sourceRecords.map((r: any) => [r.source.id, r.matchMethod]).sort()).toEqual([
      ['mercy', 'demographic'],
      ['stjude', 'identifier'],
    ]);
    const byMrn = await t.query(BY_MRN, { s: MRN.mercy, v: patient.ehrs.mercy!.mrn });
    expect(byMrn.data.patientByIdentifier.id).toBe(unifiedId);
  });
});

/** The patient's family name, from the fixture file name (`Given_Family_uuid.json`). */
function familyOf(p: TruthPatient): string {
  return p.fixtureFile.split('_')[1]!;
}

describe('two gateway replicas on one PostgreSQL', () => {
  let db: TestDatabaseHandle;
  let a: TestGateway;
  let b: TestGateway;
  let direct: Database;

  beforeAll(async () => {
    db = await createTestDatabase('postgresql');
    a = await startTestGateway({ sandbox: { maxPatients: 12 }, config: gatewayConfig(db.url) });
    b = await startTestGateway({ sandbox: { maxPatients: 12 }, config: gatewayConfig(db.url) });
    direct = await db.open();
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.dispose();
  });

  it('give parallel requests for the same new patient one unified id', async () => {
    const patient = nicknameNoSsn(a.sandbox.truth.patients).at(-1)!;
    const lookups = Array.from({ length: 8 }, (_, i) => {
      const gw = i % 2 === 0 ? a : b;
      const ehr = i % 4 < 2 ? 'mercy' : 'stjude';
      return gw.query(BY_MRN, { s: MRN[ehr], v: patient.ehrs[ehr]!.mrn });
    });
    const results = await Promise.all(lookups);
    for (const r of results) expect(r.errors).toBeUndefined();
    const ids = new Set(results.map((r) => r.data.patientByIdentifier.id));
    expect(ids.size).toBe(1);
    const links = await direct.prisma.patientLink.findMany({
      where: {
        OR: [
          { sourceId: 'mercy', sourcePatientId: patient.ehrs.mercy!.patientId },
          { sourceId: 'stjude', sourcePatientId: patient.ehrs.stjude!.patientId },
        ],
      },
    });
    expect(links).toHaveLength(2);
    expect(new Set(links.map((l) => l.unifiedId))).toEqual(ids);
    // No orphan unified patient was left behind by the losers of the race.
    expect(await direct.prisma.unifiedPatient.count({ where: { links: { none: {} } } })).toBe(0);
  });
});

// Twins in one EHR, their sister's record (under a nickname) in another.
function person(id: string, mrnSystem: string, mrn: string, given: string, birthDate = '1990-04-17'): Patient {
  return {
    resourceType: 'Patient',
    id,
    meta: { lastUpdated: '2025-06-01T00:00:00Z' },
    identifier: [{ system: mrnSystem, value: mrn }],
    name: [{ use: 'official', family: 'Okonkwo', given: [given] }],
    gender: 'female',
    birthDate,
    address: [{ use: 'home', line: ['18 Linden St'], city: 'Quincy', state: 'MA', postalCode: '02169' }],
    telecom: [{ system: 'phone', value: '555-301-4477' }],
  };
}

describe('twins and the admin mutations (PostgreSQL)', () => {
  let db: TestDatabaseHandle;
  let t: TestGateway;
  let direct: Database;
  const ehrs: SimulatedEhr[] = [];
  const A = 'http://north.example/mrn';
  const B = 'http://south.example/mrn';

  beforeAll(async () => {
    db = await createTestDatabase('postgresql');
    const open = { ...DEFAULT_PROFILES.stjude, patientOrSearch: true };
    ehrs.push(
      await SimulatedEhr.start({ id: 'north', name: 'North', store: new FhirStore([person('n-eliz', A, 'N1', 'Elizabeth')]), profile: open }),
      await SimulatedEhr.start({
        id: 'south',
        name: 'South',
        store: new FhirStore([person('s-liz', B, 'S1', 'Liz'), person('s-twin', B, 'S2', 'Margaret')]),
        profile: open,
      }),
    );
    t = await startTestGateway({
      sandbox: { maxPatients: 1 },
      config: () =>
        gatewayConfig(db.url)(ehrs.map((e) => ({ id: e.id, kind: 'fhir', name: e.name, baseUrl: e.baseUrl, auth: { type: 'none' } }))),
    });
    direct = await db.open();
  });
  afterAll(async () => {
    await t?.close();
    await Promise.all(ehrs.map((e) => e.close()));
    await db?.dispose();
  });

  let patientId: string;
  let twinMatchId: string;

  it('links the nickname record and keeps the twin apart as a possible match', async () => {
    const res = await t.query(BY_MRN, { s: A, v: 'N1' });
    expect(res.errors).toBeUndefined();
    patientId = res.data.patientByIdentifier.id;
    expect(res.data.patientByIdentifier.sourceRecords.map((r: any) => [r.sourcePatientId, r.matchMethod]).sort()).toEqual([
      ['n-eliz', 'identifier'],
      ['s-liz', 'demographic'],
    ]);
    const twin = await t.query(BY_MRN, { s: B, v: 'S2' });
    expect(twin.data.patientByIdentifier.id).not.toBe(patientId);
    expect(twin.data.patientByIdentifier.sourceRecords.map((r: any) => r.sourcePatientId)).toEqual(['s-twin']);

    const list = await t.query(
      `{ possibleMatches { totalCount nodes { id patientId held score status candidate { source { id } sourcePatientId } evidence { field outcome weight } } } }`,
      undefined,
      'admin',
    );
    expect(list.errors).toBeUndefined();
    const twinMatch = list.data.possibleMatches.nodes.find((n: any) => n.patientId === patientId && n.candidate.sourcePatientId === 's-twin');
    expect(twinMatch).toMatchObject({ held: 'given-name-conflict', status: 'OPEN', candidate: { source: { id: 'south' } } });
    expect(twinMatch.evidence.find((e: any) => e.field === 'given')).toMatchObject({ outcome: 'disagree' });
    twinMatchId = twinMatch.id;
  });

  it('refuses the admin API to other roles', async () => {
    const res = await t.query(`{ possibleMatches { totalCount } }`, undefined, 'clinician');
    expect(res.errors!.map((e) => e.extensions!.code)).toEqual(['FORBIDDEN']);
    const m = await t.query(`mutation($id: ID!) { reviewPossibleMatch(id: $id, decision: REJECT) { id } }`, { id: twinMatchId }, 'care_coordinator');
    expect(m.errors!.map((e) => e.extensions!.code)).toEqual(['FORBIDDEN']);
    expect((await direct.prisma.possibleMatch.findUnique({ where: { id: twinMatchId } }))!.status).toBe('open');
  });

  it('rejects the twin match, audited, and refuses a second review', async () => {
    const res = await t.query(`mutation($id: ID!) { reviewPossibleMatch(id: $id, decision: REJECT) { status reviewedBy } }`, { id: twinMatchId }, 'admin');
    expect(res.errors).toBeUndefined();
    expect(res.data.reviewPossibleMatch).toMatchObject({ status: 'REJECTED', reviewedBy: expect.any(String) });
    const again = await t.query(`mutation($id: ID!) { reviewPossibleMatch(id: $id, decision: LINK) { status } }`, { id: twinMatchId }, 'admin');
    expect(again.errors!.map((e) => e.extensions!.code)).toEqual(['BAD_USER_INPUT']);
    const audit = await direct.prisma.auditEvent.findMany({ where: { action: 'review-match' } });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ role: 'admin', outcome: 'success', patientIds: [patientId] });
    expect(audit[0]!.detail).toMatchObject({ decision: 'REJECT', possibleMatchId: twinMatchId });
  });

  it('unlinks a record into a patient of its own, which look-ups then leave alone, and links it back by hand', async () => {
    const un = await t.query(
      `mutation { unlinkSourceRecord(sourceId: "south", sourcePatientId: "s-liz") { id sourceRecords { sourcePatientId matchMethod } } }`,
      undefined,
      'admin',
    );
    expect(un.errors).toBeUndefined();
    const separate = un.data.unlinkSourceRecord;
    expect(separate.id).not.toBe(patientId);
    expect(separate.sourceRecords).toEqual([{ sourcePatientId: 's-liz', matchMethod: 'manual' }]);

    const after = await t.query(BY_MRN, { s: A, v: 'N1' });
    expect(after.data.patientByIdentifier.sourceRecords.map((r: any) => r.sourcePatientId)).toEqual(['n-eliz']);

    const link = await t.query(
      `mutation($p: ID!) { linkPatients(patientId: $p, records: [{ sourceId: "south", sourcePatientId: "s-liz" }]) { id sourceRecords { sourcePatientId matchMethod } } }`,
      { p: patientId },
      'admin',
    );
    expect(link.errors).toBeUndefined();
    expect(link.data.linkPatients.sourceRecords.map((r: any) => [r.sourcePatientId, r.matchMethod]).sort()).toEqual([
      ['n-eliz', 'identifier'],
      ['s-liz', 'manual'],
    ]);
    const audit = await direct.prisma.auditEvent.findMany({ where: { action: { in: ['unlink', 'link'] } }, orderBy: { at: 'asc' } });
    expect(audit.map((e) => [e.action, [...e.patientIds].sort()])).toEqual([
      ['unlink', [patientId, separate.id].sort()],
      ['link', [patientId, separate.id].sort()],
    ]);

    const bad = await t.query(
      `mutation($p: ID!) { linkPatients(patientId: $p, records: [{ sourceId: "south", sourcePatientId: "nobody" }]) { id } }`,
      { p: patientId },
      'admin',
    );
    expect(bad.errors!.map((e) => e.extensions!.code)).toEqual(['BAD_USER_INPUT']);
  });
});
