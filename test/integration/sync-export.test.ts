import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fhirSourceSchema, type FhirSourceConfig } from '../../config/config.schema.js';
import { PatientIndex } from '../../datasources/cache/patient-index.js';
import { offersPatientExport } from '../../datasources/sync/bulk-export-client.js';
import { startSandbox, SSN_SYSTEM, type EhrId, type Sandbox, type RecordedRequest } from '../../sandbox/index.js';
import { syncSources, type PopulationSyncDeps } from '../../sync/population-sync.js';
import { SyncStateStore } from '../../sync/sync-state.js';
import { resetDatabase, testDatabaseKinds, withDatabases, type TestDatabase } from '../helpers/databases.js';

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox();
});
afterAll(async () => {
  await sandbox?.close();
});

const POLL = { minMs: 10, maxMs: 20 };
function sources(mode: 'auto' | 'search' | 'export' = 'auto'): FhirSourceConfig[] {
  return sandbox.sourcesConfig().map((s) => fhirSourceSchema.parse({ ...s, pageSize: 10, sync: { mode } }));
}
const patientsOf = (id: EhrId) => sandbox.truth.patients.filter((p) => p.ehrs[id]).map((p) => p.ehrs[id]!.patientId).sort();
const deps = (db: TestDatabase): PopulationSyncDeps => ({ prisma: db.prisma, index: new PatientIndex(db.prisma), strongIdentifierSystems: [SSN_SYSTEM] });
async function indexedIds(db: TestDatabase, sourceId: string): Promise<string[]> {
  const rows = await db.prisma.sourcePatient.findMany({ where: { sourceId }, select: { sourcePatientId: true } });
  return rows.map((r) => r.sourcePatientId).sort();
}
/** The requests of one EHR as `METHOD kind status`, with job ids left out. */
function exchanges(id: EhrId): string[] {
  return sandbox.ehr(id).requests.entries.map((r: RecordedRequest) => {
    const path = r.path.replace(/^\/_bulk\/status\/[^/]+$/, '/_bulk/status/{job}').replace(/^\/_bulk\/files\/[^/]+\//, '/_bulk/files/{job}/');
    return `${r.method} ${path} ${r.status}`;
  });
}
const kickOffs = (id: EhrId) => sandbox.ehr(id).requests.entries.filter((r) => r.path === '/Patient/$export');

describe('CapabilityStatement', () => {
  it('advertises Patient/$export while the export is enabled, and only then', async () => {
    const metadata = async () => (await fetch(`${sandbox.ehr('stjude').baseUrl}/metadata`)).json();
    expect(offersPatientExport(await metadata())).toBe(true);
    sandbox.ehr('stjude').bulkExport.settings.enabled = false;
    try {
      expect(offersPatientExport(await metadata())).toBe(false);
    } finally {
      sandbox.ehr('stjude').bulkExport.settings.enabled = true;
    }
  });
});

withDatabases(testDatabaseKinds(), (ctx) => {
  beforeEach(async () => {
    await resetDatabase(ctx.db);
    for (const e of sandbox.ehrs) {
      e.resetRequests();
      await e.clearFaults();
      Object.assign(e.bulkExport.settings, { enabled: true, readyAfterMs: 0, maxResourcesPerFile: 10, retryAfterSec: 1 });
    }
  });

  it('indexes every patient through Bulk Data export where /metadata offers it: kick-off, status, files, delete', async () => {
    const results = await syncSources(sources(), deps(ctx.db), { poll: POLL });
    expect(results).toEqual([
      { sourceId: 'mercy', mode: 'export', status: 'complete', resumed: false, since: null, indexed: 30, resourceErrors: 0 },
      { sourceId: 'stjude', mode: 'export', status: 'complete', resumed: false, since: null, indexed: 25, resourceErrors: 0 },
    ]);
    expect(await indexedIds(ctx.db, 'mercy')).toEqual(patientsOf('mercy'));
    expect(await indexedIds(ctx.db, 'stjude')).toEqual(patientsOf('stjude'));
    for (const id of ['mercy', 'stjude'] as const) {
      expect(exchanges(id)).toEqual([
        'GET /metadata 200',
        'GET /Patient/$export 202',
        'GET /_bulk/status/{job} 200',
        'GET /_bulk/files/{job}/1.ndjson 200',
        'GET /_bulk/files/{job}/2.ndjson 200',
        'GET /_bulk/files/{job}/3.ndjson 200',
        'DELETE /_bulk/status/{job} 202',
      ]);
      expect(kickOffs(id)[0]!.params).toEqual([['_type', 'Patient']]);
    }
    expect(await ctx.db.prisma.patientLink.count()).toBe(55);
    expect(await ctx.db.prisma.unifiedPatient.count()).toBe(sandbox.truth.patients.length);
  });

  it('polls the status URL while the job runs (202 with X-Progress and Retry-After), then reads the manifest', async () => {
    // The job is held until the first 202 is seen, then released: a slow kick-off write cannot let it be ready at the first poll.
    const settings = sandbox.ehr('stjude').bulkExport.settings;
    settings.readyAfterMs = 10 * 60_000;
    const [, stjude] = sources();
    const waits: string[] = [];
    const [result] = await syncSources([stjude!], deps(ctx.db), {
      poll: { minMs: 10, maxMs: 10 },
      onProgress: (e) => {
        if (e.phase !== 'waiting') return;
        waits.push(e.detail!);
        settings.readyAfterMs = 0;
      },
    });
    expect(result).toMatchObject({ mode: 'export', status: 'complete', indexed: 25 });
    expect(exchanges('stjude').filter((x) => x.includes('/_bulk/status/'))).toEqual([
      'GET /_bulk/status/{job} 202',
      'GET /_bulk/status/{job} 200',
      'DELETE /_bulk/status/{job} 202',
    ]);
    expect(waits).toHaveLength(1);
    expect(waits[0]).toMatch(/^in progress \(\d+%\)$/);
  });

  it('sends _since=<transactionTime of the last export> on the next run and fetches nothing new', async () => {
    await syncSources(sources(), deps(ctx.db), { poll: POLL });
    const state = await new SyncStateStore(ctx.db.prisma).get('mercy');
    for (const e of sandbox.ehrs) e.resetRequests();

    const results = await syncSources(sources(), deps(ctx.db), { poll: POLL });
    expect(results.map((r) => [r.sourceId, r.status, r.indexed])).toEqual([
      ['mercy', 'complete', 0],
      ['stjude', 'complete', 0],
    ]);
    expect(results[0]!.since).toEqual(state!.since);
    for (const id of ['mercy', 'stjude'] as const) {
      const since = results.find((r) => r.sourceId === id)!.since!;
      expect(kickOffs(id)[0]!.params).toEqual([
        ['_type', 'Patient'],
        ['_since', since.toISOString()],
      ]);
      expect(exchanges(id)).toEqual(['GET /metadata 200', 'GET /Patient/$export 202', 'GET /_bulk/status/{job} 200', 'DELETE /_bulk/status/{job} 202']);
    }
    expect(await ctx.db.prisma.sourcePatient.count()).toBe(55);
  });

  it('resumes a failed export at the file after the last one finished, without a new kick-off', async () => {
    await sandbox.ehr('mercy').setFaults({ status: 500, path: /^\/_bulk\/files\/[^/]+\/2\.ndjson$/, times: 1 });
    const failed = await syncSources(sources(), deps(ctx.db), { poll: POLL });
    expect(failed.map((r) => [r.sourceId, r.status, r.indexed, r.error?.code])).toEqual([
      ['mercy', 'failed', 10, 'UPSTREAM_UNAVAILABLE'],
      ['stjude', 'complete', 25, undefined],
    ]);
    const state = await new SyncStateStore(ctx.db.prisma).get('mercy');
    expect(state).toMatchObject({ status: 'failed', indexed: 10, cursor: { kind: 'export', filesDone: 1 } });

    for (const e of sandbox.ehrs) e.resetRequests();
    const again = await syncSources(sources(), deps(ctx.db), { poll: POLL });
    expect(again[0]).toMatchObject({ sourceId: 'mercy', status: 'complete', resumed: true, indexed: 30 });
    expect(exchanges('mercy')).toEqual([
      'GET /metadata 200',
      'GET /_bulk/status/{job} 200',
      'GET /_bulk/files/{job}/2.ndjson 200',
      'GET /_bulk/files/{job}/3.ndjson 200',
      'DELETE /_bulk/status/{job} 202',
    ]);
    expect(await indexedIds(ctx.db, 'mercy')).toEqual(patientsOf('mercy'));
    expect(await ctx.db.prisma.patientLink.count({ where: { sourceId: 'mercy' } })).toBe(30);
  });

  it('exports again from the same bound when the stored job is gone', async () => {
    await sandbox.ehr('stjude').setFaults({ status: 500, path: /^\/_bulk\/files\/[^/]+\/3\.ndjson$/, times: 1 });
    const [, stjude] = sources();
    await syncSources([stjude!], deps(ctx.db), { poll: POLL });
    // The job expires on the server.
    const { cursor } = (await new SyncStateStore(ctx.db.prisma).get('stjude'))!;
    await fetch((cursor as { statusUrl: string }).statusUrl, { method: 'DELETE' });
    sandbox.ehr('stjude').resetRequests();

    const [result] = await syncSources([stjude!], deps(ctx.db), { poll: POLL });
    expect(result).toMatchObject({ status: 'complete', resumed: true, indexed: 25 });
    expect(exchanges('stjude')).toEqual([
      'GET /metadata 200',
      'GET /_bulk/status/{job} 404',
      'GET /Patient/$export 202',
      'GET /_bulk/status/{job} 200',
      'GET /_bulk/files/{job}/1.ndjson 200',
      'GET /_bulk/files/{job}/2.ndjson 200',
      'GET /_bulk/files/{job}/3.ndjson 200',
      'DELETE /_bulk/status/{job} 202',
    ]);
    expect(await indexedIds(ctx.db, 'stjude')).toEqual(patientsOf('stjude'));
  });

  it('follows the config: sync.mode search pages even where export is offered; auto searches where it is not', async () => {
    sandbox.ehr('stjude').bulkExport.settings.enabled = false;
    const [mercy, stjude] = sources('auto');
    const forced = fhirSourceSchema.parse({ ...mercy, sync: { mode: 'search' } });
    const results = await syncSources([forced, stjude!], deps(ctx.db), { poll: POLL });
    expect(results.map((r) => [r.sourceId, r.mode, r.status, r.indexed])).toEqual([
      ['mercy', 'search', 'complete', 30],
      ['stjude', 'search', 'complete', 25],
    ]);
    expect(kickOffs('mercy')).toHaveLength(0);
    expect(sandbox.ehr('mercy').requests.count({ interaction: 'search' })).toBe(3);
  });
});
