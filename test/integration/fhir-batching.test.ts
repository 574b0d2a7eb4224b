import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fhirSourceSchema, type FhirSourceConfig } from '../../config/config.schema.js';
import { UpstreamError } from '../../errors/errors.js';
import { FhirClient } from '../../datasources/fhir/fhir-client.js';
import type { FhirResource, UpstreamCall } from '../../datasources/fhir/fhir-types.js';
import { chunkOrValues, searchForPatients } from '../../datasources/fhir/patient-batch.js';
import { patientIdOf } from '../../datasources/fhir/patient-params.js';
import { tokenParam } from '../../datasources/fhir/search-params.js';
import { createLoaders } from '../../datasources/loaders.js';
import type { CachedSearch, SearchCache } from '../../datasources/cache/search-cache.js';
import { makeChart, startFhirTestServer, TEST_MRN_SYSTEM, type FhirTestServer } from '../helpers/fhir-test-server.js';

const ids = Array.from({ length: 20 }, (_, i) => `p${String(i + 1).padStart(2, '0')}`);
const counts = { Condition: 2, Observation: 3, Coverage: 1, AllergyIntolerance: 1 };
const TYPES = Object.keys(counts);

let orServer: FhirTestServer;
let plainServer: FhirTestServer;

beforeAll(async () => {
  const resources = makeChart(ids, counts);
  [orServer, plainServer] = await Promise.all([
    startFhirTestServer({ resources, orSearch: true, maxCount: 100 }),
    startFhirTestServer({ resources, orSearch: false, maxCount: 100 }),
  ]);
});
afterAll(async () => {
  await Promise.all([orServer.close(), plainServer.close()]);
});
afterEach(() => {
  for (const s of [orServer, plainServer]) {
    s.fault = undefined;
    s.options.latencyMs = undefined;
    s.resetLog();
  }
});

/** A client plus a spy that records each upstream call (one per batch chunk or per patient). */
function setup(server: FhirTestServer, over: Partial<Record<keyof FhirSourceConfig, unknown>> = {}, id = 'mercy') {
  const calls: UpstreamCall[] = [];
  const source = fhirSourceSchema.parse({ id, kind: 'fhir', name: id, baseUrl: server.baseUrl, pageSize: 100, ...over });
  const client = new FhirClient(source, { onCall: (c) => calls.push(c) });
  return { client, calls, searches: () => calls.filter((c) => c.interaction === 'search') };
}

function expectOwnChart(results: (FhirResource[] | Error)[], type: string, n: number) {
  results.forEach((r, i) => {
    expect(r).not.toBeInstanceOf(Error);
    const list = r as FhirResource[];
    expect(list).toHaveLength(n);
    expect(list.every((x) => x.resourceType === type && patientIdOf(x) === ids[i])).toBe(true);
  });
}

describe('searchForPatients on an OR-capable source', () => {
  it('makes one search per type for 20 patients and hands results back by patient reference', async () => {
    const { client, searches } = setup(orServer);
    await client.getCapabilities();
    for (const type of TYPES) {
      expectOwnChart(await searchForPatients(client, type, ids, []), type, counts[type as keyof typeof counts]);
      expect(orServer.requestsOf('search', type)).toHaveLength(1);
    }
    expect(orServer.requestsOf('search', 'Coverage')[0].query.get('beneficiary')).toBe(ids.join(','));
    expect(orServer.requestsOf('search', 'Condition')[0].query.get('patient')).toBe(ids.join(','));
    expect(searches().map((c) => c.patients)).toEqual([20, 20, 20, 20]);
  });

  it('cuts more chunks under a small maxUrlLength, each URL within it', async () => {
    const { client, searches } = setup(orServer, { maxUrlLength: 256 });
    const caps = await client.getCapabilities();
    const params: [string, string][] = [['code', 'http://snomed.info/sct|1000,http://snomed.info/sct|1001']];
    const expected = chunkOrValues(client, 'Condition', 'patient', ids, params, caps).length;
    expect(expected).toBeGreaterThan(1);
    const results = await searchForPatients(client, 'Condition', ids, params);
    expectOwnChart(results, 'Condition', 2);
    const sent = orServer.requestsOf('search', 'Condition');
    expect(sent).toHaveLength(expected);
    for (const r of sent) expect(`${orServer.origin}${r.url}`.length).toBeLessThanOrEqual(256);
    expect(sent.flatMap((r) => (r.query.get('patient') ?? '').split(','))).toEqual(ids);
    expect(searches()).toHaveLength(expected);
  });

  it('answers in key order, repeats included, and fails only the keys of a failed chunk', async () => {
    const { client } = setup(orServer, { maxUrlLength: 256 });
    orServer.fault = (r) => (r.kind === 'search' && (r.query.get('patient') ?? '').split(',').includes('p20') ? { status: 503, body: '' } : undefined);
    // p20 last: it lands in the last chunk, p01 in the first.
    const keys = ['p01', 'p01', ...ids.slice(1)];
    const params: [string, string][] = [['code', 'http://snomed.info/sct|1000,http://snomed.info/sct|1001']];
    const results = await searchForPatients(client, 'Condition', keys, params);
    const failedChunk = (orServer.requestsOf('search').find((r) => r.status === 503)?.query.get('patient') ?? '').split(',');
    expect(failedChunk).toContain('p20');
    expect(failedChunk).not.toContain('p01');
    expect(results).toHaveLength(keys.length);
    const failed = results[keys.length - 1] as UpstreamError;
    expect(failed).toBeInstanceOf(UpstreamError);
    expect(failed.extensions).toMatchObject({ source: 'mercy', status: 503 });
    expect((results[0] as FhirResource[]).map((r) => r.id)).toEqual(['condition-p01-0', 'condition-p01-1']);
    expect(results[1]).toBe(results[0]);
    keys.forEach((key, i) => {
      if (failedChunk.includes(key)) expect(results[i]).toBe(failed);
      else expect((results[i] as FhirResource[]).map((r) => patientIdOf(r))).toEqual([key, key]);
    });
  });

  it('escapes patient ids so one cannot widen the OR list', async () => {
    const { client } = setup(orServer);
    const results = await searchForPatients(client, 'Condition', ['p01', 'p02,p03'], []);
    expect(orServer.requestsOf('search')[0].query.get('patient')).toBe('p01,p02\\,p03');
    expect(results[1]).toEqual([]);
  });
});

describe('searchForPatients on a source without OR lists', () => {
  it('makes one search per patient, never more than maxConcurrency at once (measured at the server)', async () => {
    const { client, searches } = setup(plainServer, { maxConcurrency: 4 });
    await client.getCapabilities();
    plainServer.options.latencyMs = 25;
    const results = await searchForPatients(client, 'Observation', ids, [['category', 'laboratory']]);
    expect(results).toHaveLength(20);
    expect(plainServer.requestsOf('search', 'Observation')).toHaveLength(20);
    expect(plainServer.requestsOf('search').map((r) => r.query.get('patient')).sort()).toEqual(ids);
    expect(plainServer.maxInFlight).toBe(4);
    expect(searches().every((c) => c.patients === 1)).toBe(true);
  });

  it('escapes the id of a single-patient search', async () => {
    const { client } = setup(plainServer);
    const [widened] = await searchForPatients(client, 'Condition', ['p01,p02'], []);
    expect(plainServer.requestsOf('search')[0].query.get('patient')).toBe('p01\\,p02');
    expect(widened).toEqual([]);
  });
});

/** The simple in-memory SearchCache the loaders tests use. */
class MemorySearchCache implements SearchCache {
  readonly store = new Map<string, FhirResource[]>();
  failWrites = false;
  failReads = false;
  readonly fetchedAt = new Date('2026-01-02T03:04:05Z');
  private key(s: string, t: string, shape: string, p: string) {
    return JSON.stringify([s, t, shape, p]);
  }
  async getMany(sourceId: string, type: string, shape: string, patientIds: readonly string[]) {
    if (this.failReads) throw new Error('cache down');
    const out = new Map<string, CachedSearch>();
    for (const p of patientIds) {
      const hit = this.store.get(this.key(sourceId, type, shape, p));
      if (hit) out.set(p, { resources: hit, fetchedAt: this.fetchedAt, stale: false, expiresAt: new Date(Date.now() + 60_000) });
    }
    return out;
  }
  expiryFor(_type: string, fetchedAt: Date): Date {
    return new Date(fetchedAt.getTime() + 60_000);
  }
  async invalidate(): Promise<number> {
    const n = this.store.size;
    this.store.clear();
    return n;
  }
  async putMany(sourceId: string, type: string, shape: string, results: ReadonlyMap<string, FhirResource[]>) {
    if (this.failWrites) throw new Error('disk full');
    for (const [p, list] of results) this.store.set(this.key(sourceId, type, shape, p), list);
  }
}

describe('createLoaders', () => {
  it('dedupes the same key and the same (type, shape) from two places into one upstream call', async () => {
    const { client, searches } = setup(orServer);
    const loaders = createLoaders({ clients: new Map([['mercy', client]]) });
    const shapeA = loaders.resources('mercy', 'Observation', [['category', 'laboratory'], ['code', 'x']]);
    const shapeB = loaders.resources('mercy', 'Observation', [['code', 'x'], ['category', 'laboratory']]);
    expect(shapeB).toBe(shapeA);
    const plain = loaders.resources('mercy', 'Observation');
    expect(plain).toBe(loaders.resources('mercy', 'Observation', []));
    await Promise.all([shapeA.load('p01'), shapeB.load('p01'), shapeA.loadMany(['p02', 'p01']), plain.load('p01'), plain.load('p01')]);
    await shapeA.load('p02');
    expect(searches()).toHaveLength(2);
    expect(orServer.requestsOf('search', 'Observation')).toHaveLength(2);
    expect(orServer.requestsOf('search').map((r) => r.query.get('patient')).sort()).toEqual(['p01', 'p01,p02']);
  });

  it('batches loads of one tick across resolvers (spy on each batch)', async () => {
    const { client, searches } = setup(plainServer, { maxConcurrency: 3 });
    const loaders = createLoaders({ clients: new Map([['mercy', client]]) });
    const results = await Promise.all(ids.map((id) => loaders.resources('mercy', 'Condition').load(id)));
    expect(results.map((r) => r.resources.length)).toEqual(ids.map(() => 2));
    expect(searches()).toHaveLength(20);
    expect(plainServer.maxInFlight).toBeLessThanOrEqual(3);
  });

  it('serves cache hits with zero upstream calls and fetches only misses', async () => {
    const cache = new MemorySearchCache();
    const { client, searches } = setup(orServer);
    const clients = new Map([['mercy', client]]);
    const first = createLoaders({ clients, cache });
    await first.resources('mercy', 'Condition').loadMany(['p01', 'p02']);
    await first.whenIdle();
    expect(cache.store.size).toBe(2);
    orServer.resetLog();
    const before = searches().length;

    const second = createLoaders({ clients, cache });
    const hit = await second.resources('mercy', 'Condition').loadMany(['p01', 'p02']);
    expect((hit as CachedSearch[]).map((r) => [r.resources.length, r.fetchedAt])).toEqual([
      [2, cache.fetchedAt],
      [2, cache.fetchedAt],
    ]);
    expect(orServer.requestsOf('search')).toHaveLength(0);
    expect(searches().length).toBe(before);

    const third = createLoaders({ clients, cache });
    await third.resources('mercy', 'Condition').loadMany(['p01', 'p03']);
    expect(orServer.requestsOf('search').map((r) => r.query.get('patient'))).toEqual(['p03']);
    // Another shape is another cache entry.
    await third.resources('mercy', 'Condition', [['code', '1000']]).load('p01');
    expect(orServer.requestsOf('search')).toHaveLength(2);
  });

  it('answers even when the cache cannot be read or written', async () => {
    const cache = new MemorySearchCache();
    cache.failWrites = true;
    cache.failReads = true;
    const { client } = setup(orServer);
    const loaders = createLoaders({ clients: new Map([['mercy', client]]), cache });
    expect((await loaders.resources('mercy', 'Condition').load('p05')).resources).toHaveLength(2);
    await loaders.whenIdle();
    expect(cache.store.size).toBe(0);
  });

  it('rejects every key of a failed upstream call with the source named', async () => {
    const { client } = setup(orServer);
    orServer.fault = (r) => (r.kind === 'search' ? { status: 500, body: '' } : undefined);
    const cache = new MemorySearchCache();
    const loaders = createLoaders({ clients: new Map([['mercy', client]]), cache });
    const results = await loaders.resources('mercy', 'Condition').loadMany(['p01', 'p02']);
    for (const r of results) {
      expect(r).toBeInstanceOf(UpstreamError);
      expect((r as UpstreamError).extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', source: 'mercy' });
    }
    await loaders.whenIdle();
    expect(cache.store.size).toBe(0);
  });

  it('throws a clear error for an unknown source id', () => {
    const loaders = createLoaders({ clients: new Map() });
    expect(() => loaders.resources('nope', 'Condition')).toThrow('Unknown FHIR source id "nope"');
    expect(() => loaders.patientById('nope')).toThrow('Unknown FHIR source id "nope"');
  });

  it('finds patients by identifier with one OR search, matched back by identifier', async () => {
    const { client } = setup(orServer);
    const loaders = createLoaders({ clients: new Map([['mercy', client]]) });
    const byId = loaders.patientsByIdentifier('mercy');
    const [a, b, none, anySystem] = await Promise.all([
      byId.load(tokenParam(TEST_MRN_SYSTEM, 'MRN-p01')),
      byId.load(tokenParam(TEST_MRN_SYSTEM, 'MRN-p02')),
      byId.load(tokenParam(TEST_MRN_SYSTEM, 'MRN-p01,MRN-p03')),
      byId.load(tokenParam(undefined, 'MRN-p04')),
    ]);
    expect(a.map((p) => p.id)).toEqual(['p01']);
    expect(b.map((p) => p.id)).toEqual(['p02']);
    expect(none).toEqual([]);
    expect(anySystem.map((p) => p.id)).toEqual(['p04']);
    const sent = orServer.requestsOf('search', 'Patient');
    expect(sent).toHaveLength(1);
    expect(sent[0].query.get('identifier')).toBe(
      `${TEST_MRN_SYSTEM}|MRN-p01,${TEST_MRN_SYSTEM}|MRN-p02,${TEST_MRN_SYSTEM}|MRN-p01\\,MRN-p03,MRN-p04`,
    );
  });

  it('finds patients by identifier one search each without OR', async () => {
    const { client } = setup(plainServer);
    const byId = createLoaders({ clients: new Map([['mercy', client]]) }).patientsByIdentifier('mercy');
    const found = await byId.loadMany([tokenParam(TEST_MRN_SYSTEM, 'MRN-p01'), tokenParam(TEST_MRN_SYSTEM, 'MRN-p09')]);
    expect((found as { id: string }[][]).map((l) => l.map((p) => p.id))).toEqual([['p01'], ['p09']]);
    expect(plainServer.requestsOf('search', 'Patient')).toHaveLength(2);
  });

  it('reads patients by id with _id=a,b,c when OR-capable, else one read each', async () => {
    const or = setup(orServer);
    const viaOr = await createLoaders({ clients: new Map([['mercy', or.client]]) }).patientById('mercy').loadMany(['p03', 'ghost', 'p01']);
    expect(viaOr.map((p) => (p as { id?: string } | null)?.id ?? null)).toEqual(['p03', null, 'p01']);
    expect(orServer.requestsOf('search', 'Patient').map((r) => r.query.get('_id'))).toEqual(['p03,ghost,p01']);
    expect(orServer.requestsOf('read')).toHaveLength(0);

    const plain = setup(plainServer);
    const viaRead = await createLoaders({ clients: new Map([['mercy', plain.client]]) }).patientById('mercy').loadMany(['p03', 'ghost']);
    expect(viaRead.map((p) => (p as { id?: string } | null)?.id ?? null)).toEqual(['p03', null]);
    expect(plainServer.requestsOf('read')).toHaveLength(2);
    expect(plainServer.requestsOf('search')).toHaveLength(0);
  });
});
