import type { Patient } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FhirStore } from '../../sandbox/fhir-store.js';
import { SimulatedEhr } from '../../sandbox/fhir-server.js';
import { DEFAULT_PROFILES } from '../../sandbox/profiles.js';
import type { Database } from '../../datasources/cache/database.js';
import { fhirSources } from '../../config/config.schema.js';
import { PatientIndex } from '../../datasources/cache/patient-index.js';
import type { TruthPatient } from '../../sandbox/index.js';
import { syncSources } from '../../sync/population-sync.js';
import { createTestDatabase, testDatabaseKinds, type TestDatabaseHandle } from '../helpers/databases.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

// One person, one patient, over time: a look-up while a source is down leaves a patient
// with a source not yet searched, which a later read completes; two such halves of one
// person are merged by the next sync (audited; the old id resolves to the survivor), an
// admin undoes the merge, and the matcher does not redo it.

const MRN = { mercy: 'http://mercy.example/fhir/mrn', stjude: 'http://stjude.example/fhir/mrn' } as const;
const BY_MRN = `query($s: String!, $v: String!) { patientByIdentifier(system: $s, value: $v) { id sourceRecords { source { id } sourcePatientId } } }`;
const BY_ID = `query($id: ID!) { patient(id: $id) { id mergedFrom sourceRecords { source { id } sourcePatientId } } }`;

/** People both EHRs hold, St. Jude without the SSN: only demographics can join them. */
const noSharedSsn = (truth: readonly TruthPatient[]) => truth.filter((p) => p.ehrs.mercy && p.ehrs.stjude && !p.ehrs.stjude.hasSsn);

for (const kind of testDatabaseKinds()) {
  describe(`patients linked during an outage complete themselves and merge (${kind})`, () => {
    let db: TestDatabaseHandle;
    let t: TestGateway;
    let direct: Database;
    let people: TruthPatient[];

    beforeAll(async () => {
      db = await createTestDatabase(kind);
      t = await startTestGateway({
        sandbox: { maxPatients: 30 },
        config: (sources) => ({
          server: { port: 0, logLevel: 'silent' },
          cache: { url: db.url, defaultTtlSeconds: 0, staleWhileRevalidateSeconds: 0, staleIfErrorSeconds: 0 },
          auth: { mode: 'dev' },
          // No link cache: each read sees what the index holds now.
          identity: { linkCacheSeconds: 0 },
          sources: sources.map((s) => ({ ...(s as object), resilience: { retries: 0, breakerFailures: 1000 } })),
        }),
      });
      // The gateway's own connection: PGlite serves one process, through one instance.
      direct = t.gateway.services.database;
      people = noSharedSsn(t.sandbox.truth.patients);
    });
    afterAll(async () => {
      await t?.close();
      await db?.dispose();
    });

    it('names the source it could not search, and completes the patient once the source is back', async () => {
      const p = people[0]!;
      await t.sandbox.ehr('mercy').setFaults({ down: '503' });
      const first = await t.query(BY_MRN, { s: MRN.stjude, v: p.ehrs.stjude!.mrn });
      expect(first.data.patientByIdentifier.sourceRecords.map((r: any) => r.source.id)).toEqual(['stjude']);
      expect(first.errors?.map((e) => [e.extensions?.code, e.extensions?.source])).toContainEqual(['UPSTREAM_UNAVAILABLE', 'mercy']);
      const id = first.data.patientByIdentifier.id;
      expect(await direct.prisma.pendingSourceCheck.findMany({ select: { unifiedId: true, sourceId: true, reason: true } })).toEqual([
        { unifiedId: id, sourceId: 'mercy', reason: 'UPSTREAM_UNAVAILABLE' },
      ]);

      // Still down: a read by id says so instead of showing half a record in silence.
      const stillDown = await t.query(BY_ID, { id });
      expect(stillDown.data.patient.sourceRecords).toHaveLength(1);
      expect(stillDown.errors?.map((e) => [e.extensions?.code, e.extensions?.source, e.path])).toContainEqual(['UPSTREAM_UNAVAILABLE', 'mercy', ['patient']]);

      await t.sandbox.ehr('mercy').clearFaults();
      const after = await t.query(BY_ID, { id });
      expect(after.errors).toBeUndefined();
      expect(after.data.patient.id).toBe(id);
      expect(Object.fromEntries(after.data.patient.sourceRecords.map((r: any) => [r.source.id, r.sourcePatientId]))).toEqual({
        mercy: p.ehrs.mercy!.patientId,
        stjude: p.ehrs.stjude!.patientId,
      });
      expect(await direct.prisma.pendingSourceCheck.count()).toBe(0);
      // Completed once: the next read searches nothing.
      t.resetCounts();
      expect((await t.query(BY_ID, { id })).errors).toBeUndefined();
      expect(t.calls.filter((c) => c.resourceType === 'Patient' && c.interaction === 'search')).toHaveLength(0);
    });

    let survivor: string;
    let merged: string;

    it('merges the two halves of one person at the next sync, audited, and the old id answers the survivor', async () => {
      const p = people[1]!;
      // Each half looked up while the other EHR is down: two unified patients for one person.
      await t.sandbox.ehr('stjude').setFaults({ down: '503' });
      const mercyHalf = (await t.query(BY_MRN, { s: MRN.mercy, v: p.ehrs.mercy!.mrn })).data.patientByIdentifier.id;
      await t.sandbox.ehr('stjude').clearFaults();
      await t.sandbox.ehr('mercy').setFaults({ down: '503' });
      const stjudeHalf = (await t.query(BY_MRN, { s: MRN.stjude, v: p.ehrs.stjude!.mrn })).data.patientByIdentifier.id;
      await t.sandbox.ehr('mercy').clearFaults();
      expect(stjudeHalf).not.toBe(mercyHalf);

      const results = await syncSources(fhirSources(t.config), {
        prisma: direct.prisma,
        index: new PatientIndex(direct.prisma),
        strongIdentifierSystems: t.config.identity.strongIdentifierSystems,
      });
      expect(results.map((r) => r.status)).toEqual(['complete', 'complete']);

      // The older unified patient survives; both ids answer it.
      [survivor, merged] = [mercyHalf, stjudeHalf];
      const viaOld = await t.query(BY_ID, { id: merged });
      expect(viaOld.errors).toBeUndefined();
      expect(viaOld.data.patient.id).toBe(survivor);
      expect(viaOld.data.patient.mergedFrom).toEqual([merged]);
      expect(viaOld.data.patient.sourceRecords.map((r: any) => r.source.id).sort()).toEqual(['mercy', 'stjude']);
      const merges = await direct.prisma.patientMerge.findMany();
      expect(merges.map((m) => [m.survivorId, m.mergedId, m.method, m.undoneAt])).toEqual([[survivor, merged, 'matcher', null]]);
      const audit = await direct.prisma.auditEvent.findMany({ where: { action: 'merge' } });
      expect(audit.map((a) => [a.subject, a.role, a.outcome, [...a.patientIds].sort()])).toEqual([['chartgraph-sync', 'system', 'success', [survivor, merged].sort()]]);

      // Every person both EHRs hold is one unified patient now.
      const links = await direct.prisma.patientLink.findMany();
      const unifiedOf = new Map(links.map((l) => [`${l.sourceId}/${l.sourcePatientId}`, l.unifiedId]));
      for (const q of t.sandbox.truth.patients.filter((x) => x.ehrs.mercy && x.ehrs.stjude)) {
        expect(unifiedOf.get(`stjude/${q.ehrs.stjude!.patientId}`)).toBe(unifiedOf.get(`mercy/${q.ehrs.mercy!.patientId}`));
      }
    });

    it('lets an admin undo the merge, audited, and the matcher does not merge the two again', async () => {
      const list = await t.query(`{ patientMerges(first: 10) { totalCount nodes { id survivorId mergedId method mergedBy records { source { id } } } } }`, {}, 'admin');
      expect(list.errors).toBeUndefined();
      expect(list.data.patientMerges.totalCount).toBe(1);
      const m = list.data.patientMerges.nodes[0];
      expect(m).toMatchObject({ survivorId: survivor, mergedId: merged, method: 'matcher', mergedBy: 'matcher', records: [{ source: { id: 'stjude' } }] });

      const refused = await t.query(`mutation($id: ID!) { undoPatientMerge(mergeId: $id) { id } }`, { id: m.id }, 'clinician');
      expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

      const undo = await t.query(`mutation($id: ID!) { undoPatientMerge(mergeId: $id) { id undoneAt undoneBy } }`, { id: m.id }, 'admin');
      expect(undo.errors).toBeUndefined();
      expect(undo.data.undoPatientMerge.undoneBy).toBe('dev-admin');
      const back = await t.query(BY_ID, { id: merged });
      expect(back.data.patient.id).toBe(merged);
      expect(back.data.patient.sourceRecords.map((r: any) => r.source.id)).toEqual(['stjude']);
      expect(await direct.prisma.auditEvent.count({ where: { action: 'unmerge', subject: 'dev-admin' } })).toBe(1);

      await syncSources(fhirSources(t.config), { prisma: direct.prisma, index: new PatientIndex(direct.prisma), strongIdentifierSystems: t.config.identity.strongIdentifierSystems }, { full: true });
      expect((await t.query(BY_ID, { id: merged })).data.patient.id).toBe(merged);
      expect(await direct.prisma.patientMerge.count({ where: { undoneAt: null } })).toBe(0);
    });
  });
}

describe('two gateways on one PostgreSQL linking the same people at once', () => {
  let db: TestDatabaseHandle;
  let a: TestGateway;
  let b: TestGateway;
  let direct: Database;

  beforeAll(async () => {
    db = await createTestDatabase('postgresql');
    const config = (sources: unknown[]) => ({
      server: { port: 0, logLevel: 'silent' },
      cache: { url: db.url, defaultTtlSeconds: 0 },
      auth: { mode: 'dev' },
      sources,
    });
    a = await startTestGateway({ sandbox: { maxPatients: 30 }, config });
    b = await startTestGateway({ sandbox: { maxPatients: 30 }, config });
    direct = await db.open();
  });
  afterAll(async () => {
    // Together: neither's shutdown may wait on work of the other's still holding a lock.
    await Promise.all([a?.close(), b?.close()]);
    await db?.dispose();
  });

  it('ends with one unified patient per person, whichever record each gateway starts from', async () => {
    const people = a.sandbox.truth.patients.filter((p) => p.ehrs.mercy && p.ehrs.stjude).slice(0, 10);
    // Gateway a starts from Mercy, b from St. Jude, all at once.
    const answers = await Promise.all(
      people.flatMap((p) => [
        a.query(BY_MRN, { s: MRN.mercy, v: p.ehrs.mercy!.mrn }),
        b.query(BY_MRN, { s: MRN.stjude, v: p.ehrs.stjude!.mrn }),
      ]),
    );
    for (const r of answers) expect(r.errors).toBeUndefined();
    const links = await direct.prisma.patientLink.findMany();
    const unifiedOf = new Map(links.map((l) => [`${l.sourceId}/${l.sourcePatientId}`, l.unifiedId]));
    for (const p of people) {
      const id = unifiedOf.get(`mercy/${p.ehrs.mercy!.patientId}`);
      expect(id).toBeDefined();
      expect(unifiedOf.get(`stjude/${p.ehrs.stjude!.patientId}`)).toBe(id);
    }
    // Whatever raced, every id handed out answers one of those patients.
    const handedOut = [...new Set(answers.map((r) => r.data.patientByIdentifier.id))];
    const resolved = await Promise.all(handedOut.map((id) => a.query(BY_ID, { id })));
    const live = new Set(people.map((p) => unifiedOf.get(`mercy/${p.ehrs.mercy!.patientId}`)));
    for (const r of resolved) expect(live.has(r.data.patient.id)).toBe(true);
  });
});

describe('look-ups alone reach a typo and a swapped day and month (PGlite)', () => {
  let t: TestGateway;
  const ehrs: SimulatedEhr[] = [];
  const A = 'http://north.example/mrn';
  const B = 'http://south.example/mrn';
  const person = (id: string, system: string, mrn: string, given: string, birthDate: string): Patient => ({
    resourceType: 'Patient',
    id,
    meta: { lastUpdated: '2025-06-01T00:00:00Z' },
    identifier: [{ system, value: mrn }],
    name: [{ use: 'official', family: 'Okafor', given: [given] }],
    gender: 'female',
    birthDate,
    address: [{ use: 'home', line: ['7 Elm Ct'], city: 'Lowell', state: 'MA', postalCode: '01852' }],
    telecom: [{ system: 'phone', value: '555-404-1188' }],
  });

  beforeAll(async () => {
    const profile = { ...DEFAULT_PROFILES.stjude, patientOrSearch: true };
    ehrs.push(
      await SimulatedEhr.start({ id: 'north', name: 'North', store: new FhirStore([person('n-1', A, 'N1', 'Katherine', '1984-03-07')]), profile }),
      await SimulatedEhr.start({ id: 'south', name: 'South', store: new FhirStore([person('s-1', B, 'S1', 'Katherin', '1984-07-03')]), profile }),
    );
    t = await startTestGateway({
      sandbox: { maxPatients: 1 },
      config: () => ({
        server: { port: 0, logLevel: 'silent' },
        cache: { url: 'pglite:memory:', defaultTtlSeconds: 0 },
        auth: { mode: 'dev' },
        sources: ehrs.map((e) => ({ id: e.id, kind: 'fhir', name: e.name, baseUrl: e.baseUrl, auth: { type: 'none' } })),
      }),
    });
  });
  afterAll(async () => {
    await t?.close();
    await Promise.all(ehrs.map((e) => e.close()));
  });

  it('links a record with a one-letter given-name slip and day and month swapped, found by family name and birth year', async () => {
    const res = await t.query(BY_MRN, { s: A, v: 'N1' });
    expect(res.errors).toBeUndefined();
    expect(res.data.patientByIdentifier.sourceRecords.map((r: any) => r.sourcePatientId).sort()).toEqual(['n-1', 's-1']);
    const searches = ehrs[1]!.requests.entries.filter((r) => r.resourceType === 'Patient' && r.params.some(([k]) => k === 'family'));
    expect(searches.map((r) => r.params.filter(([k]) => k !== '_count'))).toEqual([
      [
        ['family', 'Okafor'],
        ['birthdate', 'ge1984-01-01'],
        ['birthdate', 'le1984-12-31'],
      ],
    ]);
  });
});
