import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fhirSourceSchema, type FhirSourceConfig } from '../../config/config.schema.js';
import { PatientIndex } from '../../datasources/cache/patient-index.js';
import { PrismaSearchCache } from '../../datasources/cache/prisma-search-cache.js';
import { FhirClient } from '../../datasources/fhir/fhir-client.js';
import { CLINICAL_TYPES } from '../../datasources/fhir/fhir-types.js';
import { startSandbox, SSN_SYSTEM, type EhrId, type Sandbox } from '../../sandbox/index.js';
import { syncSources, type PopulationSyncDeps } from '../../sync/population-sync.js';
import type { SyncProgressEvent } from '../../sync/progress.js';
import { SyncStateStore } from '../../sync/sync-state.js';
import { resetDatabase, testDatabaseKinds, withDatabases, type TestDatabase } from '../helpers/databases.js';

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox();
});
afterAll(async () => {
  await sandbox?.close();
});

/** Both sandbox EHRs as parsed config, 10 patients a page, paged search forced. */
function sources(mode: 'search' | 'auto' = 'search'): FhirSourceConfig[] {
  return sandbox.sourcesConfig().map((s) => fhirSourceSchema.parse({ ...s, pageSize: 10, sync: { mode } }));
}
const patientsOf = (id: EhrId) => sandbox.truth.patients.filter((p) => p.ehrs[id]).map((p) => p.ehrs[id]!.patientId).sort();
const deps = (db: TestDatabase): PopulationSyncDeps => ({
  prisma: db.prisma,
  index: new PatientIndex(db.prisma),
  strongIdentifierSystems: [SSN_SYSTEM],
});
async function indexedIds(db: TestDatabase, sourceId: string): Promise<string[]> {
  const rows = await db.prisma.sourcePatient.findMany({ where: { sourceId }, select: { sourcePatientId: true } });
  return rows.map((r) => r.sourcePatientId).sort();
}
const searches = (id: EhrId) => sandbox.ehr(id).requests.entries.filter((r) => r.interaction === 'search');

withDatabases(testDatabaseKinds(), (ctx) => {
  beforeEach(async () => {
    await resetDatabase(ctx.db);
    for (const e of sandbox.ehrs) {
      e.resetRequests();
      await e.clearFaults();
    }
  });

  it('indexes every patient of every source by paged search, one request per page, and links them', async () => {
    const results = await syncSources(sources(), deps(ctx.db));
    expect(results).toEqual([
      { sourceId: 'mercy', mode: 'search', status: 'complete', resumed: false, since: null, indexed: 30, resourceErrors: 0 },
      { sourceId: 'stjude', mode: 'search', status: 'complete', resumed: false, since: null, indexed: 25, resourceErrors: 0 },
    ]);
    expect(patientsOf('mercy')).toHaveLength(30);
    expect(await indexedIds(ctx.db, 'mercy')).toEqual(patientsOf('mercy'));
    expect(await indexedIds(ctx.db, 'stjude')).toEqual(patientsOf('stjude'));

    for (const id of ['mercy', 'stjude'] as const) {
      // /metadata, then pages of 10: the first URL as built, the others exactly as the server linked them.
      expect(sandbox.ehr(id).requests.count({ interaction: 'capabilities' })).toBe(1);
      expect(searches(id).map((r) => [r.page === true, r.status])).toEqual([
        [false, 200],
        [true, 200],
        [true, 200],
      ]);
      expect(searches(id)[0]!.params).toEqual([['_count', '10']]);
      expect(sandbox.ehr(id).requests.count()).toBe(4);
    }

    // The matcher links each person's two records, with or without a shared SSN: one unified patient per person.
    const both = sandbox.truth.patients.filter((p) => p.ehrs.mercy && p.ehrs.stjude);
    expect(both.some((p) => !p.ehrs.stjude!.hasSsn)).toBe(true);
    expect(await ctx.db.prisma.patientLink.count()).toBe(55);
    expect(await ctx.db.prisma.unifiedPatient.count()).toBe(sandbox.truth.patients.length);
    const links = await new PatientIndex(ctx.db.prisma).findLinks(
      both.flatMap((p) => [
        { sourceId: 'mercy', sourcePatientId: p.ehrs.mercy!.patientId },
        { sourceId: 'stjude', sourcePatientId: p.ehrs.stjude!.patientId },
      ]),
    );
    for (const p of both) expect(links.get(`stjude/${p.ehrs.stjude!.patientId}`)?.unifiedId).toBe(links.get(`mercy/${p.ehrs.mercy!.patientId}`)?.unifiedId);

    const state = await new SyncStateStore(ctx.db.prisma).get('mercy');
    expect(state).toMatchObject({ status: 'complete', cursor: null, indexed: 30 });
    expect(state!.since!.getTime()).toBe(state!.startedAt!.getTime());
  });

  it('runs incrementally after a complete run: _lastUpdated=gt<start of that run>, nothing new fetched or linked', async () => {
    await syncSources(sources(), deps(ctx.db));
    const first = await new SyncStateStore(ctx.db.prisma).get('stjude');
    const unified = await ctx.db.prisma.unifiedPatient.count();
    for (const e of sandbox.ehrs) e.resetRequests();

    const results = await syncSources(sources(), deps(ctx.db));
    expect(results.map((r) => [r.sourceId, r.status, r.indexed, r.since?.toISOString()])).toEqual([
      ['mercy', 'complete', 0, expect.any(String)],
      ['stjude', 'complete', 0, first!.since!.toISOString()],
    ]);
    for (const id of ['mercy', 'stjude'] as const) {
      expect(searches(id)).toHaveLength(1);
      const since = (await new SyncStateStore(ctx.db.prisma).get(id))!;
      expect(searches(id)[0]!.params).toEqual([
        ['_count', '10'],
        ['_lastUpdated', `gt${results.find((r) => r.sourceId === id)!.since!.toISOString()}`],
      ]);
      expect(since.status).toBe('complete');
    }
    expect(await ctx.db.prisma.unifiedPatient.count()).toBe(unified);
    expect(await ctx.db.prisma.sourcePatient.count()).toBe(55);
  });

  it('resumes an interrupted walk from its cursor, not from page 1, and holds every patient exactly once', async () => {
    const controller = new AbortController();
    const onProgress = (e: SyncProgressEvent) => {
      if (e.sourceId === 'mercy' && e.phase === 'page' && e.indexed === 20) controller.abort();
    };
    const stopped = await syncSources(sources(), deps(ctx.db), { signal: controller.signal, onProgress });
    expect(stopped).toEqual([{ sourceId: 'mercy', mode: 'search', status: 'interrupted', resumed: false, since: null, indexed: 20, resourceErrors: 0 }]);
    const state = await new SyncStateStore(ctx.db.prisma).get('mercy');
    expect(state).toMatchObject({ status: 'interrupted', indexed: 20, cursor: { kind: 'search', next: expect.stringContaining('_getpages=') } });
    expect(await ctx.db.prisma.sourcePatient.count({ where: { sourceId: 'mercy' } })).toBe(20);
    expect(await ctx.db.prisma.syncState.count({ where: { sourceId: 'stjude' } })).toBe(0);

    for (const e of sandbox.ehrs) e.resetRequests();
    const resumed = await syncSources(sources(), deps(ctx.db));
    expect(resumed.map((r) => [r.sourceId, r.status, r.resumed, r.indexed])).toEqual([
      ['mercy', 'complete', true, 30],
      ['stjude', 'complete', false, 25],
    ]);
    // Mercy: only the third page, by the stored next link.
    expect(searches('mercy').map((r) => [r.page === true, r.status])).toEqual([[true, 200]]);
    expect(sandbox.ehr('mercy').requests.count({ interaction: 'search', page: false })).toBe(0);
    expect(await indexedIds(ctx.db, 'mercy')).toEqual(patientsOf('mercy'));
    expect(await ctx.db.prisma.patientLink.count({ where: { sourceId: 'mercy' } })).toBe(30);
    const next = await new SyncStateStore(ctx.db.prisma).get('mercy');
    // A resumed run keeps its start: changes made while it was stopped are caught next time.
    expect(next!.since!.getTime()).toBe(state!.startedAt!.getTime());
  });

  it('asks a page again after a reset connection or a 503, and the walk goes on', async () => {
    const onProgress = (e: SyncProgressEvent) => {
      if (e.sourceId === 'mercy' && e.phase === 'page' && e.indexed === 10) void sandbox.ehr('mercy').setFaults({ down: 'reset', resourceTypes: ['Patient'], times: 1 });
      if (e.sourceId === 'mercy' && e.phase === 'page' && e.indexed === 20) void sandbox.ehr('mercy').setFaults({ status: 503, resourceTypes: ['Patient'], times: 1 });
    };
    const results = await syncSources(sources(), deps(ctx.db), { onProgress });
    expect(results.map((r) => [r.sourceId, r.status, r.indexed])).toEqual([
      ['mercy', 'complete', 30],
      ['stjude', 'complete', 25],
    ]);
    // Three pages, the second and third each asked twice (the reset is logged as status 0).
    expect(searches('mercy').map((r) => r.status)).toEqual([200, 0, 200, 503, 200]);
    expect(sandbox.ehr('mercy').requests.count({ interaction: 'search', resourceType: 'Patient' })).toBe(5);
    expect(await indexedIds(ctx.db, 'mercy')).toEqual(patientsOf('mercy'));
  });

  it('keeps the cursor when a page fails upstream, lets the other sources finish, and continues from that page', async () => {
    // Three 503s: the first try and both retries.
    const onProgress = (e: SyncProgressEvent) => {
      if (e.sourceId === 'mercy' && e.phase === 'page' && e.indexed === 10) void sandbox.ehr('mercy').setFaults({ status: 503, resourceTypes: ['Patient'], times: 3 });
    };
    const failed = await syncSources(sources(), deps(ctx.db), { onProgress });
    expect(failed.map((r) => [r.sourceId, r.status, r.indexed, r.error?.code, r.error?.extensions.status])).toEqual([
      ['mercy', 'failed', 10, 'UPSTREAM_UNAVAILABLE', 503],
      ['stjude', 'complete', 25, undefined, undefined],
    ]);
    expect(searches('mercy').map((r) => r.status)).toEqual([200, 503, 503, 503]);
    expect((await new SyncStateStore(ctx.db.prisma).get('mercy'))!.status).toBe('failed');

    for (const e of sandbox.ehrs) e.resetRequests();
    const again = await syncSources(sources(), deps(ctx.db));
    expect(again.map((r) => [r.sourceId, r.status, r.resumed, r.indexed])).toEqual([
      ['mercy', 'complete', true, 30],
      ['stjude', 'complete', false, 0],
    ]);
    expect(searches('mercy').map((r) => [r.page === true, r.status])).toEqual([
      [true, 200],
      [true, 200],
    ]);
    expect(await indexedIds(ctx.db, 'mercy')).toEqual(patientsOf('mercy'));
  });

  it('with --full walks everything again from page 1 and links nothing twice', async () => {
    await syncSources(sources(), deps(ctx.db));
    const unified = await ctx.db.prisma.unifiedPatient.count();
    for (const e of sandbox.ehrs) e.resetRequests();
    const results = await syncSources(sources(), deps(ctx.db), { full: true });
    expect(results.map((r) => [r.sourceId, r.status, r.since, r.indexed])).toEqual([
      ['mercy', 'complete', null, 30],
      ['stjude', 'complete', null, 25],
    ]);
    expect(searches('mercy')).toHaveLength(3);
    expect(searches('mercy')[0]!.params).toEqual([['_count', '10']]);
    expect(await ctx.db.prisma.unifiedPatient.count()).toBe(unified);
    expect(await ctx.db.prisma.patientLink.count()).toBe(55);
  });
});

describe('sync --resources', () => {
  withDatabases(['pglite'], (ctx) => {
    it('fills the search cache with every listed clinical type of every indexed patient', async () => {
      await resetDatabase(ctx.db);
      const [, stjude] = sources();
      const cache = new PrismaSearchCache(ctx.db.prisma, { ttlSeconds: {}, defaultTtlSeconds: 3600 });
      const clients = new Map([['stjude', new FhirClient(stjude!)]]);
      sandbox.ehr('stjude').resetRequests();
      const [result] = await syncSources([stjude!], { ...deps(ctx.db), resourceCache: { clients, cache } });
      expect(result).toMatchObject({ status: 'complete', indexed: 25, resourceErrors: 0 });

      const listed = (await clients.get('stjude')!.getCapabilities()).resourceTypes;
      const types = CLINICAL_TYPES.filter((t) => listed.includes(t));
      expect(types.length).toBeGreaterThan(3);
      const rows = await ctx.db.prisma.cachedSearch.groupBy({ by: ['resourceType'], where: { sourceId: 'stjude' }, _count: { _all: true } });
      expect(Object.fromEntries(rows.map((r) => [r.resourceType, r._count._all]))).toEqual(Object.fromEntries(types.map((t) => [t, 25])));
      // St. Jude takes no OR lists but FHIR batch: one entry per patient and type, in batch Bundles.
      const perType: Record<string, number> = {};
      for (const b of sandbox.ehr('stjude').requests.entries.filter((r) => r.interaction === 'batch')) {
        for (const e of b.batchEntries ?? []) if (e.resourceType) perType[e.resourceType] = (perType[e.resourceType] ?? 0) + 1;
      }
      for (const t of types) expect(perType[t]).toBe(25);
      const single = sandbox.ehr('stjude').requests.countByResourceType({ interaction: 'search', page: false });
      for (const t of types) expect(single[t]).toBeUndefined();
    });
  });
});
