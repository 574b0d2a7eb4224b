import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { MedicationRequest } from '@medplum/fhirtypes';
import { CohortService } from '../../analytics/cohort-service.js';
import { fhirSourceSchema, type FhirSourceConfig } from '../../config/config.schema.js';
import { PatientIndex } from '../../datasources/cache/patient-index.js';
import { PrismaSearchCache } from '../../datasources/cache/prisma-search-cache.js';
import { FhirClient } from '../../datasources/fhir/fhir-client.js';
import { CLINICAL_TYPES, type FhirResource } from '../../datasources/fhir/fhir-types.js';
import { extractFacts } from '../../datasources/population/fact-extraction.js';
import { PopulationStore } from '../../datasources/population/population-store.js';
import { medicationForm, medicationIdFor, SSN_SYSTEM, startSandbox, type EhrId, type RecordedRequest, type Sandbox } from '../../sandbox/index.js';
import { splitFixturesCached } from '../../sandbox/split-cache.js';
import { syncSources, type PopulationSyncDeps, type SourceSyncResult } from '../../sync/population-sync.js';
import { summaryLine } from '../../sync/sync-command.js';
import { resetDatabase, testDatabaseKinds, withDatabases, type TestDatabase } from '../helpers/databases.js';

// Incremental `sync --resources` over the sandbox by real HTTP: resources written at an EHR
// after a complete sync reach the cohort store through `[type]?_lastUpdated=gt<since>`, one
// refetch per changed patient; a source that refuses those searches gets the TTL fallback,
// said in the result and in freshness; MedicationRequests by reference match like codes.

const MAX_PATIENTS = 6;
const TEST_CODES = 'http://example.org/chartgraph-test-codes';

let sandbox: Sandbox;
/** The clinical types each EHR lists in /metadata: the types `--resources` keeps. */
const kept: Partial<Record<EhrId, string[]>> = {};
beforeAll(async () => {
  sandbox = await startSandbox({ maxPatients: MAX_PATIENTS, profiles: { mercy: { requireAuth: false } }, medicationReferences: ['mercy', 'stjude'] });
  for (const e of sandbox.ehrs) {
    const cs = (await (await fetch(`${e.baseUrl}/metadata`)).json()) as { rest: { resource: { type: string }[] }[] };
    const listed = cs.rest[0]!.resource.map((r) => r.type);
    kept[e.id as EhrId] = CLINICAL_TYPES.filter((t) => listed.includes(t));
  }
}, 120_000);
afterAll(async () => {
  await sandbox?.close();
});

const sources = (): FhirSourceConfig[] => sandbox.sourcesConfig().map((s) => fhirSourceSchema.parse({ ...s, sync: { mode: 'search' } }));
const patientsOf = (id: EhrId) => sandbox.truth.patients.filter((p) => p.ehrs[id]).map((p) => p.ehrs[id]!.patientId).sort();
const searchesOf = (id: EhrId) => sandbox.ehr(id).requests.entries.filter((r) => r.interaction === 'search');
const param = (r: { params: Array<[string, string]> }, name: string) => r.params.find(([k]) => k === name)?.[1];

/** FHIR create by HTTP at the EHR; returns the stored resource. */
async function create(id: EhrId, resource: Record<string, unknown>): Promise<FhirResource> {
  const res = await fetch(`${sandbox.ehr(id).baseUrl}/${String(resource.resourceType)}`, {
    method: 'POST',
    headers: { 'content-type': 'application/fhir+json' },
    body: JSON.stringify(resource),
  });
  expect(res.status).toBe(201);
  return (await res.json()) as FhirResource;
}
async function update(id: EhrId, resource: FhirResource): Promise<void> {
  const res = await fetch(`${sandbox.ehr(id).baseUrl}/${resource.resourceType}/${resource.id}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/fhir+json' },
    body: JSON.stringify(resource),
  });
  expect(res.status).toBe(200);
}

withDatabases(testDatabaseKinds(), (ctx) => {
  const deps = (db: TestDatabase, ttlSeconds = 3600): PopulationSyncDeps => ({
    prisma: db.prisma,
    index: new PatientIndex(db.prisma),
    strongIdentifierSystems: [SSN_SYSTEM],
    resourceCache: {
      clients: new Map(sources().map((s) => [s.id, new FhirClient(s)] as const)),
      // Copies stay fresh for an hour: the refresh must go past them.
      cache: new PrismaSearchCache(db.prisma, { ttlSeconds: {}, defaultTtlSeconds: ttlSeconds }),
      population: new PopulationStore(db.prisma),
    },
  });
  const service = () => new CohortService(ctx.db.prisma, { suppressionThreshold: 11, sourceIds: ['mercy', 'stjude'] });
  const withCode = (code: string) => service().cohort({ conditions: [{ system: TEST_CODES, code }] }, { suppress: false }).members();
  const unified = async (sourceId: string, sourcePatientId: string) =>
    (await ctx.db.prisma.patientLink.findUniqueOrThrow({ where: { sourceId_sourcePatientId: { sourceId, sourcePatientId } } })).unifiedId;
  const condition = (patientId: string, code: string) => ({
    resourceType: 'Condition',
    subject: { reference: `Patient/${patientId}` },
    code: { coding: [{ system: TEST_CODES, code }] },
    clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
    onsetDateTime: '2026-11-30',
  });
  let fullStartedAt: Date;
  /** What St. Jude received during the full sync of `beforeEach`. */
  let fullCalls: Record<EhrId, RecordedRequest[]>;

  beforeEach(async () => {
    await resetDatabase(ctx.db);
    sandbox.ehr('mercy').profile.searchNeedsPatient = false;
    for (const e of sandbox.ehrs) e.resetRequests();
    fullStartedAt = new Date();
    const results = await syncSources(sources(), deps(ctx.db));
    expect(results.map((r) => [r.sourceId, r.status, r.since, r.resourceErrors, r.changes])).toEqual([
      ['mercy', 'complete', null, 0, undefined],
      ['stjude', 'complete', null, 0, undefined],
    ]);
    fullCalls = { mercy: sandbox.ehr('mercy').requests.entries, stjude: sandbox.ehr('stjude').requests.entries };
    for (const e of sandbox.ehrs) e.resetRequests();
  }, 180_000);

  it('a Condition created after a complete sync reaches the cohort on the next incremental run: one _lastUpdated search per type, one refetch', async () => {
    const patient = patientsOf('mercy')[0]!;
    const code = `new-${ctx.kind}`;
    const created = await create('mercy', condition(patient, code));
    expect(await withCode(code)).toEqual([]);
    sandbox.ehr('mercy').resetRequests();

    const [mercy, stjude] = await syncSources(sources(), deps(ctx.db));
    const since = (await ctx.db.prisma.populationSource.findUniqueOrThrow({ where: { sourceId: 'mercy' } })).syncedAt;
    expect(mercy).toMatchObject({ status: 'complete', indexed: 0, resourceErrors: 0 });
    expect(mercy!.changes).toEqual(kept.mercy!.map((t) => ({ resourceType: t, changes: 'listed', currentTo: since, lists: t === 'Condition' ? 1 : 0 })));
    expect(stjude!.changes!.every((t) => t.changes === 'listed' && t.lists === 0)).toBe(true);
    expect(summaryLine(mercy!)).toContain('1 changed lists refreshed');

    // Exactly: /metadata, the Patient page, one change search per kept type, one refetch of the patient's Conditions.
    const calls = sandbox.ehr('mercy').requests.entries;
    expect(calls.filter((r) => r.interaction === 'capabilities')).toHaveLength(2); // the walk's and the client's
    const searches = searchesOf('mercy');
    // Each type's changes are searched, then its stale lists refetched before the next type.
    expect(searches.map((r) => r.resourceType)).toEqual(['Patient', ...kept.mercy!.flatMap((t) => (t === 'Condition' ? [t, t] : [t]))]);
    const refetch = searches.filter((r) => !param(r, '_lastUpdated'));
    expect(refetch.map((r) => [r.resourceType, r.params.filter(([k]) => k !== '_count')])).toEqual([['Condition', [['patient', patient]]]]);
    expect(calls).toHaveLength(2 + searches.length);
    // St. Jude changed nothing: its change searches and nothing else.
    expect(searchesOf('stjude').map((r) => r.resourceType)).toEqual(['Patient', ...kept.stjude!]);
    expect(sandbox.ehr('stjude').requests.count({ interaction: 'batch' })).toBe(0);

    expect(await withCode(code)).toEqual([await unified('mercy', patient)]);
    expect((await service().freshness()).typesNotCurrent).toEqual([]);

    // Entered in error at the EHR: the refetched list leaves it out, and so does the cohort.
    await update('mercy', { ...created, verificationStatus: { coding: [{ code: 'entered-in-error' }] } } as FhirResource);
    const [again] = await syncSources(sources(), deps(ctx.db));
    expect(again!.changes!.find((t) => t.resourceType === 'Condition')!.lists).toBe(1);
    expect(await withCode(code)).toEqual([]);
  }, 180_000);

  it('a source that refuses searches without a patient: the sync completes, refetches only lists older than the TTL, and freshness says the types lag', async () => {
    const patient = patientsOf('mercy')[1]!;
    const code = `refused-${ctx.kind}`;
    sandbox.ehr('mercy').profile.searchNeedsPatient = true;
    await create('mercy', condition(patient, code));
    sandbox.ehr('mercy').resetRequests();

    const runStarted = new Date();
    const [mercy] = await syncSources(sources(), deps(ctx.db));
    expect(mercy).toMatchObject({ status: 'complete', resourceErrors: 0 });
    expect(mercy!.changes!.map((t) => [t.resourceType, t.changes, t.status, t.lists])).toEqual(kept.mercy!.map((t) => [t, 'not-listed', 403, patientsOf('mercy').length]));
    // Every list was fresh in the cache (TTL one hour): served, none fetched. The type is current to the full sync's fetch.
    const searches = searchesOf('mercy');
    expect(searches.map((r) => [r.resourceType, r.status])).toEqual([['Patient', 200], ...kept.mercy!.map((t) => [t, 403])]);
    // The summary names the oldest of the types' (each type's oldest list it served).
    const currentTo = new Date(Math.min(...mercy!.changes!.map((t) => t.currentTo.getTime())));
    expect(currentTo.getTime()).toBeGreaterThanOrEqual(fullStartedAt.getTime());
    expect(currentTo.getTime()).toBeLessThan(runStarted.getTime());
    expect(summaryLine(mercy!)).toContain(`changes not listed (HTTP 403) for ${kept.mercy!.join(', ')}: every list older than its cache TTL refetched, current to ${currentTo.toISOString()}`);

    expect(await withCode(code)).toEqual([]);
    const f = await service().freshness();
    expect(f.typesNotCurrent.map((t) => [t.sourceId, t.resourceType])).toEqual(kept.mercy!.map((t) => ['mercy', t]).sort());
    expect(f.oldestFetchedAt!.getTime()).toBeLessThanOrEqual(currentTo.getTime());
    expect(f.sourcesNotSynced).toEqual([]);

    // With the cache off (TTL 0) every known patient's list is older than the TTL: all are fetched, and the type is current.
    sandbox.ehr('mercy').resetRequests();
    const [cold] = await syncSources(sources(), deps(ctx.db, 0));
    expect(cold).toMatchObject({ status: 'complete', resourceErrors: 0 });
    const conditionSearches = searchesOf('mercy').filter((r) => r.resourceType === 'Condition' && r.status === 200);
    expect(conditionSearches.flatMap((r) => param(r, 'patient')!.split(',')).sort()).toEqual(patientsOf('mercy'));
    expect(await withCode(code)).toEqual([await unified('mercy', patient)]);
    expect((await service().freshness()).typesNotCurrent).toEqual([]);
  }, 180_000);

  /** Each type's `currentTo` in a run's changes, or in the stored type states. */
  const currentToOf = (types: readonly { resourceType: string; currentTo: Date }[]) => new Map(types.map((t) => [t.resourceType, t.currentTo.toISOString()] as const));
  const changeSearchesOf = (id: EhrId) => searchesOf(id).filter((r) => r.resourceType !== 'Patient' && param(r, '_lastUpdated'));

  it('a type left behind by a run whose changes were not listed catches up from its own currentTo once the source lists them again', async () => {
    const patient = patientsOf('mercy')[1]!;
    const code = `caught-up-${ctx.kind}`;
    sandbox.ehr('mercy').profile.searchNeedsPatient = true;
    await create('mercy', condition(patient, code));
    const [refused] = await syncSources(sources(), deps(ctx.db));
    expect(refused!.changes!.map((t) => t.changes)).toEqual(kept.mercy!.map(() => 'not-listed'));
    const behind = currentToOf(refused!.changes!);
    expect(await withCode(code)).toEqual([]);

    // The source lists changes again: each type is searched from where it was current to, not from the last run's start.
    sandbox.ehr('mercy').profile.searchNeedsPatient = false;
    sandbox.ehr('mercy').resetRequests();
    const [mercy] = await syncSources(sources(), deps(ctx.db));
    const syncedAt = (await ctx.db.prisma.populationSource.findUniqueOrThrow({ where: { sourceId: 'mercy' } })).syncedAt;
    expect(mercy).toMatchObject({ status: 'complete', resourceErrors: 0 });
    expect(changeSearchesOf('mercy').map((r) => [r.resourceType, param(r, '_lastUpdated'), r.status])).toEqual(kept.mercy!.map((t) => [t, `gt${behind.get(t)}`, 200]));
    expect(mercy!.changes).toEqual(kept.mercy!.map((t) => ({ resourceType: t, changes: 'listed', currentTo: syncedAt, lists: t === 'Condition' ? 1 : 0 })));
    expect(await withCode(code)).toEqual([await unified('mercy', patient)]);
    expect((await service().freshness()).typesNotCurrent).toEqual([]);
  }, 180_000);

  it('a full run that serves fresh cached lists is current only to the oldest; the next export then searches each type from there instead of asking $export for changes', async () => {
    const patient = patientsOf('mercy')[2]!;
    const code = `full-cached-${ctx.kind}`;
    await create('mercy', condition(patient, code));
    // Every list is within its TTL: the full run serves them all from the cache, the new Condition unseen.
    const [full] = await syncSources(sources(), deps(ctx.db), { full: true });
    expect(full).toMatchObject({ status: 'complete', since: null, resourceErrors: 0 });
    expect(await withCode(code)).toEqual([]);
    const stored = (await new PopulationStore(ctx.db.prisma).typeStatesOf('mercy')).filter((t) => kept.mercy!.includes(t.resourceType));
    expect(stored.map((t) => [t.resourceType, t.changes])).toEqual(kept.mercy!.map((t) => [t, 'filled']).sort());
    const syncedAt = (await ctx.db.prisma.populationSource.findUniqueOrThrow({ where: { sourceId: 'mercy' } })).syncedAt;
    for (const t of stored) expect(t.currentTo.getTime()).toBeLessThan(syncedAt.getTime());
    expect((await service().freshness()).typesNotCurrent.filter((t) => t.sourceId === 'mercy').map((t) => t.resourceType)).toEqual([...kept.mercy!].sort());

    sandbox.ehr('mercy').resetRequests();
    const exporting = sources().map((s) => fhirSourceSchema.parse({ ...s, sync: { mode: 'export' } }));
    const [mercy] = await syncSources(exporting, deps(ctx.db), { poll: { minMs: 10, maxMs: 100 } });
    expect(mercy).toMatchObject({ mode: 'export', status: 'complete', resourceErrors: 0 });
    // Types are behind the export bound: the export is asked for Patients only, and each type's changes are searched from its currentTo.
    const kickOff = sandbox.ehr('mercy').requests.entries.filter((r) => r.path === '/Patient/$export');
    expect(kickOff.map((r) => r.params)).toEqual([[['_type', 'Patient'], ['_since', syncedAt.toISOString()]]]);
    const behind = currentToOf(stored);
    expect(changeSearchesOf('mercy').map((r) => [r.resourceType, param(r, '_lastUpdated')])).toEqual(kept.mercy!.map((t) => [t, `gt${behind.get(t)}`]));
    expect(mercy!.changes!.map((t) => [t.resourceType, t.changes, t.lists])).toEqual(kept.mercy!.map((t) => [t, 'listed', t === 'Condition' ? 1 : 0]));
    expect(await withCode(code)).toEqual([await unified('mercy', patient)]);
    expect((await service().freshness()).typesNotCurrent.filter((t) => t.sourceId === 'mercy')).toEqual([]);
  }, 180_000);

  it('where the sync exports, one $export?_type=Patient,<types>&_since= lists the changes, even at a source that refuses searches without a patient', async () => {
    const patient = patientsOf('mercy')[2]!;
    const code = `exported-${ctx.kind}`;
    sandbox.ehr('mercy').profile.searchNeedsPatient = true;
    await create('mercy', condition(patient, code));
    sandbox.ehr('mercy').resetRequests();
    const exporting = sources().map((s) => fhirSourceSchema.parse({ ...s, sync: { mode: 'export' } }));
    const since = (await ctx.db.prisma.syncState.findUniqueOrThrow({ where: { sourceId: 'mercy' } })).since!;

    const [mercy] = await syncSources(exporting, deps(ctx.db), { poll: { minMs: 10, maxMs: 100 } });
    expect(mercy).toMatchObject({ mode: 'export', status: 'complete', indexed: 0, resourceErrors: 0 });
    expect(mercy!.changes!.map((t) => [t.resourceType, t.changes, t.lists])).toEqual(kept.mercy!.map((t) => [t, 'listed', t === 'Condition' ? 1 : 0]));
    const kickOff = sandbox.ehr('mercy').requests.entries.filter((r) => r.path === '/Patient/$export');
    expect(kickOff.map((r) => r.params)).toEqual([[['_type', ['Patient', ...kept.mercy!].join(',')], ['_since', since.toISOString()]]]);
    // No change search at all: the only search is the one refetch.
    expect(searchesOf('mercy').map((r) => [r.resourceType, r.params.filter(([k]) => k !== '_count'), r.status])).toEqual([['Condition', [['patient', patient]], 200]]);
    expect(await withCode(code)).toEqual([await unified('mercy', patient)]);
    expect((await service().freshness()).typesNotCurrent).toEqual([]);
  }, 180_000);

  it('a MedicationRequest naming its drug by reference (contained or Medication/id) gives the same facts as by code, each Medication fetched once', async () => {
    let contained = 0;
    let referenced = 0;
    for (const ehr of ['mercy', 'stjude'] as const) {
      // The split behind the sandbox, before the variant: what the facts must equal.
      const originals = splitFixturesCached({ maxPatients: MAX_PATIENTS }).ehrs[ehr].resources.filter((r) => r.resourceType === 'MedicationRequest') as MedicationRequest[];
      const forms = originals.map((r) => (r.medicationCodeableConcept ? medicationForm(r.id!) : 'concept'));
      contained += forms.filter((f) => f === 'contained').length;
      referenced += forms.filter((f) => f === 'referenced').length;
      const expected = new Set(originals.flatMap((r) => extractFacts(r).map((f) => `${r.subject!.reference!.slice('Patient/'.length)} ${f.resourceId} ${f.system}|${f.code}`)));
      const rows = await ctx.db.prisma.clinicalFact.findMany({ where: { sourceId: ehr, resourceType: 'MedicationRequest' } });
      expect(rows.map((f) => `${f.sourcePatientId} ${f.resourceId} ${f.system}|${f.code}`).sort()).toEqual([...expected].sort());

      // Fetched in the full sync of beforeEach, batched as the EHR allows, each drug once.
      const firstCoding = (r: MedicationRequest) => r.medicationCodeableConcept!.coding!.find((c) => c.code)!;
      const drugs = [...new Set(originals.filter((_, i) => forms[i] === 'referenced').map((r) => medicationIdFor(firstCoding(r).system ?? '', firstCoding(r).code!)))].sort();
      const asked =
        ehr === 'mercy'
          ? fullCalls.mercy.filter((r) => r.resourceType === 'Medication' && r.interaction === 'search').flatMap((r) => param(r, '_id')!.split(','))
          : fullCalls.stjude.flatMap((r) => (r.batchEntries ?? []).filter((e) => e.resourceType === 'Medication' && e.status === 200).map((e) => e.id!));
      expect(asked.sort()).toEqual(drugs);
      expect(fullCalls[ehr].filter((r) => r.resourceType === 'Medication' && r.interaction === 'read')).toEqual([]);
      // And kept in the search cache, under the drug's id.
      const stored = await ctx.db.prisma.cachedSearch.findMany({ where: { sourceId: ehr, resourceType: 'Medication' }, select: { sourcePatientId: true } });
      expect(stored.map((r) => r.sourcePatientId).sort()).toEqual(drugs);

      // The cohort criterion: each drug named by reference selects exactly its patients at this source.
      for (const r of originals.filter((_, i) => forms[i] !== 'concept')) {
        const c = firstCoding(r);
        const holders = originals.filter((o) => extractFacts(o).some((f) => f.code === c.code && f.system === (c.system ?? ''))).map((o) => o.subject!.reference!.slice(8));
        const want = [...new Set(await Promise.all(holders.map((p) => unified(ehr, p))))].sort();
        const got = await service().cohort({ medications: [{ system: c.system ?? '', code: c.code! }] }, { suppress: false }).members();
        // Members may also hold it at the other source; at this source, exactly these.
        expect(got.filter((u) => want.includes(u))).toEqual(want);
      }
    }
    expect(contained).toBeGreaterThan(0);
    expect(referenced).toBeGreaterThan(0);
  }, 180_000);
});

describe('medicationReference without the sync', () => {
  it('reads a contained Medication from the resource and a referenced one from what sync fetched', () => {
    const base: MedicationRequest = { resourceType: 'MedicationRequest', id: 'm1', status: 'active', intent: 'order', subject: { reference: 'Patient/p' } };
    const code = { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '860975' }] };
    const contained = { ...base, contained: [{ resourceType: 'Medication', id: 'x', code }], medicationReference: { reference: '#x' } } as MedicationRequest;
    expect(extractFacts(contained).map((f) => f.code)).toEqual(['860975']);
    // A contained id that is not there gives nothing, rather than a guess.
    expect(extractFacts({ ...contained, medicationReference: { reference: '#y' } } as MedicationRequest)).toEqual([]);
    const referenced = { ...base, medicationReference: { reference: 'Medication/d1' } } as MedicationRequest;
    expect(extractFacts(referenced)).toEqual([]);
    const medications = new Map([['d1', { resourceType: 'Medication' as const, id: 'd1', code }]]);
    expect(extractFacts(referenced, { medications, medicationId: () => 'd1' }).map((f) => `${f.system}|${f.code}`)).toEqual(['http://www.nlm.nih.gov/research/umls/rxnorm|860975']);
  });
});
