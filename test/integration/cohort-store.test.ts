import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CohortService } from '../../analytics/cohort-service.js';
import { toCohortFilter, type CohortCriteriaInput } from '../../analytics/cohort-criteria.js';
import { fhirSourceSchema, type FhirSourceConfig } from '../../config/config.schema.js';
import { PatientIndex } from '../../datasources/cache/patient-index.js';
import { PrismaSearchCache } from '../../datasources/cache/prisma-search-cache.js';
import { FhirClient } from '../../datasources/fhir/fhir-client.js';
import type { FhirResource } from '../../datasources/fhir/fhir-types.js';
import { CohortStore } from '../../datasources/population/cohort-store.js';
import { PopulationStore } from '../../datasources/population/population-store.js';
import { syncSources, type PopulationSyncDeps } from '../../sync/population-sync.js';
import { resetDatabase, testDatabaseKinds, withDatabases, type TestDatabase } from '../helpers/databases.js';
import { startFhirTestServer, type FhirTestServer } from '../helpers/fhir-test-server.js';

// The population store over two small FHIR servers whose every resource is written here, so
// each cohort has one right answer: criteria, latest-versus-any values across sources,
// withdrawn facts, breakdowns, merges through the patient index, deletions on re-sync.

const SSN = 'http://hl7.org/fhir/sid/us-ssn';
const SCT = 'http://snomed.info/sct';
const LOINC = 'http://loinc.org';
const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
const TODAY = new Date('2026-12-01T12:00:00Z');

const patient = (id: string, ssn: string, gender: string, birthDate: string, family: string): FhirResource =>
  ({ resourceType: 'Patient', id, gender, birthDate, name: [{ family, given: ['Pat'] }], identifier: [{ system: SSN, value: ssn }] }) as FhirResource;
const condition = (id: string, pid: string, code: string, extra: Record<string, unknown> = {}): FhirResource =>
  ({ resourceType: 'Condition', id, subject: { reference: `Patient/${pid}` }, code: { coding: [{ system: SCT, code }] }, ...extra }) as FhirResource;
const a1c = (id: string, pid: string, value: number, when: string, unit = '%'): FhirResource =>
  ({
    resourceType: 'Observation',
    id,
    status: 'final',
    subject: { reference: `Patient/${pid}` },
    code: { coding: [{ system: LOINC, code: '4548-4' }] },
    effectiveDateTime: when,
    valueQuantity: { value, unit, system: 'http://unitsofmeasure.org', code: unit },
  }) as FhirResource;
const encounter = (id: string, pid: string, start: string): FhirResource =>
  ({ resourceType: 'Encounter', id, status: 'finished', subject: { reference: `Patient/${pid}` }, class: { code: 'AMB' }, period: { start } }) as FhirResource;
const coverage = (id: string, pid: string, payer: string, status: string): FhirResource =>
  ({ resourceType: 'Coverage', id, status, beneficiary: { reference: `Patient/${pid}` }, payor: [{ display: payer }] }) as FhirResource;

function resourcesA(): FhirResource[] {
  return [
    patient('p1', '111-11-1111', 'female', '1970-06-01', 'Alpha'),
    condition('c1', 'p1', '44054006'),
    a1c('o1', 'p1', 8.0, '2020-01-01'),
    a1c('o2', 'p1', 6.0, '2024-01-01'),
    coverage('cv1', 'p1', 'Medicaid', 'active'),
    patient('p2', '222-22-2222', 'male', '1950-01-01', 'Beta'),
    condition('c2', 'p2', '15777000'),
    a1c('o3', 'p2', 7.0, '2023-05-05'),
    { resourceType: 'MedicationRequest', id: 'm1', status: 'active', intent: 'order', subject: { reference: 'Patient/p2' }, medicationCodeableConcept: { coding: [{ system: RXNORM, code: '860975' }] }, authoredOn: '2023-05-05' } as FhirResource,
    encounter('e1', 'p2', '2019-05-05'),
    patient('p3', '333-33-3333', 'male', '2010-01-01', 'Gamma'),
    a1c('o4', 'p3', 5.0, '2022-02-02'),
    coverage('cv3', 'p3', 'Acme Health Plan', 'cancelled'),
  ];
}
function resourcesB(): FhirResource[] {
  return [
    patient('q1', '111-11-1111', 'female', '1970-06-01', 'Alpha'),
    a1c('o9', 'q1', 9.0, '2025-01-01'),
    encounter('e9', 'q1', '2025-03-01'),
    patient('q4', '444-44-4444', 'female', '1935-01-01', 'Delta'),
    condition('c4', 'q4', '44054006', { verificationStatus: { coding: [{ code: 'refuted' }] } }),
    encounter('e4', 'q4', '2024-02-02'),
  ];
}

let a: FhirTestServer;
let b: FhirTestServer;
beforeAll(async () => {
  a = await startFhirTestServer({ resources: resourcesA(), orSearch: true });
  b = await startFhirTestServer({ resources: resourcesB() });
});
afterAll(async () => {
  await a?.close();
  await b?.close();
});

const sources = (): FhirSourceConfig[] => [
  fhirSourceSchema.parse({ id: 'a', name: 'A', kind: 'fhir', baseUrl: a.baseUrl, auth: { type: 'none' }, sync: { mode: 'search' } }),
  fhirSourceSchema.parse({ id: 'b', name: 'B', kind: 'fhir', baseUrl: b.baseUrl, auth: { type: 'none' }, sync: { mode: 'search' } }),
];

withDatabases(testDatabaseKinds(), (ctx) => {
  let service: CohortService;
  let index: PatientIndex;
  const deps = (db: TestDatabase): PopulationSyncDeps => ({
    prisma: db.prisma,
    index,
    strongIdentifierSystems: [SSN],
    resourceCache: {
      clients: new Map(sources().map((s) => [s.id, new FhirClient(s)] as const)),
      cache: new PrismaSearchCache(db.prisma, { ttlSeconds: {}, defaultTtlSeconds: 0 }),
      population: new PopulationStore(db.prisma),
    },
  });
  const unified = async (sourceId: string, sourcePatientId: string) =>
    (await ctx.db.prisma.patientLink.findUniqueOrThrow({ where: { sourceId_sourcePatientId: { sourceId, sourcePatientId } } })).unifiedId;
  let u: Record<'u1' | 'u2' | 'u3' | 'u4', string>;
  const members = async (criteria: CohortCriteriaInput) =>
    service.cohort(toCohortFilter(criteria, { today: TODAY, sourceIds: ['a', 'b'] }), { suppress: false }).members();
  const named = (...keys: (keyof typeof u)[]) => keys.map((k) => u[k]).sort();

  beforeEach(async () => {
    a.options.resources = resourcesA();
    b.options.resources = resourcesB();
    await resetDatabase(ctx.db);
    index = new PatientIndex(ctx.db.prisma);
    service = new CohortService(ctx.db.prisma, { suppressionThreshold: 11, sourceIds: ['a', 'b'], now: () => TODAY });
    const results = await syncSources(sources(), deps(ctx.db), { now: () => TODAY });
    expect(results.map((r) => [r.sourceId, r.status, r.indexed, r.resourceErrors])).toEqual([
      ['a', 'complete', 3, 0],
      ['b', 'complete', 2, 0],
    ]);
    u = { u1: await unified('a', 'p1'), u2: await unified('a', 'p2'), u3: await unified('a', 'p3'), u4: await unified('b', 'q4') };
    // The two records of one person (same SSN) are one unified patient.
    expect(await unified('b', 'q1')).toBe(u.u1);
  }, 120_000);

  it('selects by condition, medication, encounter date, payer and source; withdrawn facts never count', async () => {
    expect(await members({})).toEqual(named('u1', 'u2', 'u3', 'u4'));
    expect(await members({ conditions: [`${SCT}|44054006`] })).toEqual(named('u1'));
    expect(await members({ conditions: [`${SCT}|44054006`, `${SCT}|15777000`] })).toEqual(named('u1', 'u2'));
    expect(await members({ medications: [`${RXNORM}|860975`] })).toEqual(named('u2'));
    expect(await members({ encounterSince: '2024-01-01' })).toEqual(named('u1', 'u4'));
    expect(await members({ payers: ['Medicaid'] })).toEqual(named('u1'));
    // A cancelled coverage is no payer.
    expect(await members({ payers: ['Acme Health Plan'] })).toEqual([]);
    expect(await members({ sources: ['b'] })).toEqual(named('u1', 'u4'));
    expect(await members({ conditions: [`${SCT}|44054006`], sources: ['a'], gender: 'female' })).toEqual(named('u1'));
  });

  it('tests the latest value across every source, or any value, within since', async () => {
    const hba1c = `${LOINC}|4548-4`;
    // u1's latest is 9.0 from source b (2025), not 6.0 from a (2024).
    expect(await members({ observations: [{ code: hba1c, minValue: 8.5, unit: '%' }] })).toEqual(named('u1'));
    expect(await members({ observations: [{ code: hba1c, maxValue: 6.5, unit: '%' }] })).toEqual(named('u3'));
    expect(await members({ observations: [{ code: hba1c, maxValue: 6.5, unit: '%', match: 'ANY' }] })).toEqual(named('u1', 'u3'));
    expect(await members({ observations: [{ code: hba1c, minValue: 7.5, maxValue: 8.5, match: 'ANY' }] })).toEqual(named('u1'));
    expect(await members({ observations: [{ code: hba1c, since: '2024-06-01' }] })).toEqual(named('u1'));
    // Values in another unit do not qualify.
    expect(await members({ observations: [{ code: hba1c, minValue: 0, unit: 'mg/dL' }] })).toEqual([]);
    // OR within the list.
    expect(await members({ observations: [{ code: hba1c, minValue: 8.5 }, { code: hba1c, maxValue: 5.5 }] })).toEqual(named('u1', 'u3'));
  });

  it('selects by gender and age as of today, from the most recently updated record', async () => {
    expect(await members({ gender: 'female' })).toEqual(named('u1', 'u4'));
    expect(await members({ ageMin: 70 })).toEqual(named('u2', 'u4'));
    expect(await members({ ageMax: 17 })).toEqual(named('u3'));
    expect(await members({ ageMin: 56, ageMax: 56 })).toEqual(named('u1'));
  });

  it('breaks down by every dimension, a patient of two sources counting in both', async () => {
    const all = service.cohort({}, { suppress: false });
    expect(await all.breakdown(['SOURCE'])).toEqual([
      { keys: ['a'], count: 3, suppressed: false },
      { keys: ['b'], count: 2, suppressed: false },
    ]);
    expect(await all.breakdown(['AGE_GROUP'])).toEqual([
      { keys: ['10-19'], count: 1, suppressed: false },
      { keys: ['50-59'], count: 1, suppressed: false },
      { keys: ['70-79'], count: 1, suppressed: false },
      { keys: ['90+'], count: 1, suppressed: false },
    ]);
    expect(await all.breakdown(['PAYER', 'GENDER'])).toEqual([
      { keys: ['Medicaid', 'female'], count: 1, suppressed: false },
      { keys: ['none', 'female'], count: 1, suppressed: false },
      { keys: ['none', 'male'], count: 2, suppressed: false },
    ]);
    expect(await all.breakdown(['YEAR_OF_LAST_ENCOUNTER'])).toEqual([
      { keys: ['2019'], count: 1, suppressed: false },
      { keys: ['2024'], count: 1, suppressed: false },
      { keys: ['2025'], count: 1, suppressed: false },
      { keys: ['none'], count: 1, suppressed: false },
    ]);
    // For a de-identified caller every cell here is under 11.
    const deid = service.cohort({}, { suppress: true });
    expect(await deid.totalCount()).toBeNull();
    expect((await deid.breakdown(['GENDER'])).map((c) => [c.keys[0], c.count, c.suppressed])).toEqual([
      ['female', null, true],
      ['male', null, true],
    ]);
  });

  it('starts no statement after the request deadline: the breakdown after a passed deadline is refused, the members before it answered', async () => {
    const deadline = new AbortController();
    const cohort = new CohortService(ctx.db.prisma, { suppressionThreshold: 11, sourceIds: ['a', 'b'], now: () => TODAY, databaseKind: ctx.kind }).cohort(
      {},
      { suppress: false, deadline: { signal: deadline.signal, deadlineAt: Date.now() + 60_000 } },
    );
    expect(await cohort.totalCount()).toBe(4);
    deadline.abort();
    await expect(cohort.breakdown(['SOURCE'])).rejects.toMatchObject({ extensions: { code: 'UPSTREAM_TIMEOUT', reason: 'REQUEST_DEADLINE' } });
    // A deadline already in the past refuses as well, signal or not.
    await expect(new CohortStore(ctx.db.prisma, ctx.kind).members({}, { signal: new AbortController().signal, deadlineAt: Date.now() - 1 })).rejects.toMatchObject({
      extensions: { code: 'UPSTREAM_TIMEOUT', reason: 'REQUEST_DEADLINE' },
    });
  });

  it.skipIf(ctx.kind !== 'postgresql')('ends a PostgreSQL statement at the deadline and leaves no statement timeout on the pooled connections', async () => {
    const store = new CohortStore(ctx.db.prisma, 'postgresql');
    const locker = new pg.Client({ connectionString: ctx.db.url });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE patient_link IN ACCESS EXCLUSIVE MODE');
      // The members query waits on the lock until its statement timeout (what is left of 300 ms) cancels it.
      const refused = store.members({}, { signal: new AbortController().signal, deadlineAt: Date.now() + 300 });
      await expect(refused).rejects.toMatchObject({ extensions: { code: 'UPSTREAM_TIMEOUT', reason: 'REQUEST_DEADLINE' } });
      await locker.query('ROLLBACK');
    } finally {
      await locker.end();
    }
    // SET LOCAL ended with its transaction: every pooled connection is back to no timeout.
    const timeouts = await Promise.all(Array.from({ length: 4 }, () => ctx.db.prisma.$queryRawUnsafe<{ statement_timeout: string }[]>('SHOW statement_timeout')));
    expect(timeouts.map((r) => r[0]!.statement_timeout)).toEqual(['0', '0', '0', '0']);
    expect(await store.members({}, { signal: new AbortController().signal, deadlineAt: Date.now() + 60_000 })).toEqual(named('u1', 'u2', 'u3', 'u4'));
  });

  it('follows merges through the patient index and ignores facts of unlinked records', async () => {
    // An admin moves b/q4 into u1: u4 is left without links, its facts now count for u1.
    await index.moveRecords(u.u1, [{ sourceId: 'b', sourcePatientId: 'q4' }]);
    expect(await members({})).toEqual(named('u1', 'u2', 'u3'));
    expect(await members({ encounterSince: '2024-01-01' })).toEqual(named('u1'));
    expect(await members({ sources: ['b'] })).toEqual(named('u1'));
    await ctx.db.prisma.clinicalFact.create({
      data: { sourceId: 'a', sourcePatientId: 'nobody', resourceType: 'Condition', resourceId: 'x', system: SCT, code: '15777000', fetchedAt: TODAY },
    });
    expect(await members({ conditions: [`${SCT}|15777000`] })).toEqual(named('u2'));
  });

  it('replaces a patient’s facts on the next sync, so a deleted resource leaves the cohort', async () => {
    expect(await members({ conditions: [`${SCT}|15777000`] })).toEqual(named('u2'));
    a.options.resources = resourcesA().filter((r) => r.id !== 'c2');
    await syncSources(sources(), deps(ctx.db), { now: () => TODAY });
    expect(await members({ conditions: [`${SCT}|15777000`] })).toEqual([]);
    expect(await ctx.db.prisma.clinicalFact.count({ where: { resourceId: 'c2' } })).toBe(0);
  });

  it('says when each source was last filled and which were never', async () => {
    const f = await service.freshness();
    expect(f).toEqual({ asOf: TODAY, oldestFetchedAt: TODAY, sourcesNotSynced: [], sourcesSyncing: [], typesNotCurrent: [] });
    const wider = new CohortService(ctx.db.prisma, { suppressionThreshold: 11, sourceIds: ['a', 'b', 'c'], now: () => TODAY });
    expect((await wider.freshness()).sourcesNotSynced).toEqual(['c']);
  });
});
