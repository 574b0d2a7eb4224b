import { beforeEach, expect, it } from 'vitest';
import { PrismaSearchCache } from '../../datasources/cache/prisma-search-cache.js';
import type { FhirResource } from '../../datasources/fhir/fhir-types.js';
import { resetDatabase, testDatabaseKinds, withDatabases } from '../helpers/databases.js';

const queries: string[] = [];
const T0 = new Date('2026-03-01T10:00:00.000Z');

function observation(id: string, patient: string, extra: Partial<FhirResource> = {}): FhirResource {
  return {
    resourceType: 'Observation',
    id,
    status: 'final',
    code: { text: `code of ${id}` },
    subject: { reference: `Patient/${patient}` },
    ...extra,
  } as FhirResource;
}

withDatabases(
  testDatabaseKinds(),
  (ctx) => {
    let clock: Date;
    let cache: PrismaSearchCache;
    beforeEach(async () => {
      await resetDatabase(ctx.db);
      clock = T0;
      cache = new PrismaSearchCache(ctx.db.prisma, {
        ttlSeconds: { Observation: 60 },
        defaultTtlSeconds: 300,
        now: () => clock,
      });
      queries.length = 0;
    });

    it('returns what was put, in stored order, and nothing for patients never put', async () => {
      const p1 = [observation('o3', 'p1'), observation('o1', 'p1'), observation('o2', 'p1')];
      const p2 = [observation('o9', 'p2')];
      await cache.putMany('ehr-a', 'Observation', 'code=x', new Map([['p1', p1], ['p2', p2], ['p3', []]]));
      const got = await cache.getMany('ehr-a', 'Observation', 'code=x', ['p1', 'p2', 'p3', 'p4']);
      expect([...got.keys()].sort()).toEqual(['p1', 'p2', 'p3']);
      expect(got.get('p1')).toEqual({ resources: p1, fetchedAt: T0, expiresAt: new Date(T0.getTime() + 60_000), stale: false });
      expect(got.get('p2')?.resources).toEqual(p2);
      expect(got.get('p3')?.resources).toEqual([]);
      // Keyed by source, type and shape.
      expect((await cache.getMany('ehr-b', 'Observation', 'code=x', ['p1'])).size).toBe(0);
      expect((await cache.getMany('ehr-a', 'Observation', 'code=y', ['p1'])).size).toBe(0);
      expect((await cache.getMany('ehr-a', 'Condition', 'code=x', ['p1'])).size).toBe(0);
      expect(await cache.getMany('ehr-a', 'Observation', 'code=x', [])).toEqual(new Map());
    });

    it('records versionId and lastUpdated from meta, and the fetch time', async () => {
      await cache.putMany(
        'ehr-a',
        'Observation',
        'all',
        new Map([
          [
            'p1',
            [
              observation('o1', 'p1', { meta: { versionId: '7', lastUpdated: '2025-01-02T03:04:05.678+02:00' } }),
              observation('o2', 'p1', { meta: { lastUpdated: 'not a date' } }),
            ],
          ],
        ]),
      );
      const rows = await ctx.db.prisma.cachedResource.findMany({ orderBy: { resourceId: 'asc' } });
      expect(rows.map((r) => [r.resourceId, r.sourcePatientId, r.versionId, r.lastUpdated?.toISOString() ?? null, r.fetchedAt.toISOString()])).toEqual([
        ['o1', 'p1', '7', '2025-01-02T01:04:05.678Z', T0.toISOString()],
        ['o2', 'p1', null, null, T0.toISOString()],
      ]);
      const [search] = await ctx.db.prisma.cachedSearch.findMany();
      expect(search).toMatchObject({ resourceIds: ['o1', 'o2'], fetchedAt: T0, expiresAt: new Date(T0.getTime() + 60_000) });
    });

    it('expires results after the TTL of their type', async () => {
      await cache.putMany('ehr-a', 'Observation', 'all', new Map([['p1', [observation('o1', 'p1')]]]));
      await cache.putMany('ehr-a', 'Condition', 'all', new Map([['p1', []]]));
      clock = new Date(T0.getTime() + 59_999);
      expect((await cache.getMany('ehr-a', 'Observation', 'all', ['p1'])).has('p1')).toBe(true);
      clock = new Date(T0.getTime() + 60_000);
      expect((await cache.getMany('ehr-a', 'Observation', 'all', ['p1'])).has('p1')).toBe(false);
      // Condition has no TTL of its own: the default 300 s.
      expect((await cache.getMany('ehr-a', 'Condition', 'all', ['p1'])).has('p1')).toBe(true);
      clock = new Date(T0.getTime() + 300_000);
      expect((await cache.getMany('ehr-a', 'Condition', 'all', ['p1'])).has('p1')).toBe(false);
      // Stale entries stay readable on request (stale-if-error).
      const stale = await cache.getMany('ehr-a', 'Observation', 'all', ['p1'], { includeStale: true });
      expect(stale.get('p1')).toMatchObject({ stale: true, fetchedAt: T0, resources: [observation('o1', 'p1')] });
      // A new put makes it fresh again.
      await cache.putMany('ehr-a', 'Observation', 'all', new Map([['p1', [observation('o2', 'p1')]]]));
      expect((await cache.getMany('ehr-a', 'Observation', 'all', ['p1'])).get('p1')?.resources).toEqual([observation('o2', 'p1')]);
    });

    it('reads a batch of patients in two queries and writes it in one transaction', async () => {
      const results = new Map(Array.from({ length: 50 }, (_, i) => [`p${i}`, [observation(`a${i}`, `p${i}`), observation(`b${i}`, `p${i}`)]]));
      queries.length = 0;
      await cache.putMany('ehr-a', 'Observation', 'all', results);
      // Besides the transaction's own BEGIN/COMMIT (PGlite's adapter logs its commit as a comment).
      const statements = queries.filter((q) => !/^(BEGIN|COMMIT|-- Implicit "COMMIT")/.test(q));
      expect(statements.map((q) => q.split('\n')[0])).toEqual(['INSERT INTO "cached_resource"', 'INSERT INTO "cached_search"']);

      queries.length = 0;
      const got = await cache.getMany('ehr-a', 'Observation', 'all', [...results.keys(), 'nobody']);
      expect(queries).toHaveLength(2);
      expect(got.size).toBe(50);
      expect(got.get('p17')?.resources).toEqual(results.get('p17'));

      // A batch with no hit costs one query.
      queries.length = 0;
      await cache.getMany('ehr-a', 'Observation', 'all', ['x', 'y', 'z']);
      expect(queries).toHaveLength(1);
    });

    it('never serves half a list: a missing body makes the whole entry a miss', async () => {
      await cache.putMany(
        'ehr-a',
        'Observation',
        'all',
        new Map([
          ['p1', [observation('o1', 'p1'), observation('o2', 'p1')]],
          ['p2', [observation('o3', 'p2')]],
        ]),
      );
      await ctx.db.prisma.cachedResource.delete({
        where: { sourceId_resourceType_resourceId: { sourceId: 'ehr-a', resourceType: 'Observation', resourceId: 'o2' } },
      });
      const got = await cache.getMany('ehr-a', 'Observation', 'all', ['p1', 'p2']);
      expect([...got.keys()]).toEqual(['p2']);
    });

    it('rolls a failed write back whole', async () => {
      // 600 resources make two statements; Postgres rejects \u0000 in jsonb, in the second one.
      const many = Array.from({ length: 600 }, (_, i) => observation(`o${String(i).padStart(3, '0')}`, 'p1'));
      many[599] = observation('o599', 'p1', { code: { text: 'bad \u0000 byte' } } as Partial<FhirResource>);
      await expect(cache.putMany('ehr-a', 'Observation', 'all', new Map([['p1', many]]))).rejects.toThrow();
      expect(await ctx.db.prisma.cachedResource.count()).toBe(0);
      expect(await ctx.db.prisma.cachedSearch.count()).toBe(0);
    });

    it('overwrites an earlier result and bodies', async () => {
      await cache.putMany('ehr-a', 'Observation', 'all', new Map([['p1', [observation('o1', 'p1'), observation('o2', 'p1')]]]));
      const changed = observation('o2', 'p1', { status: 'amended' } as Partial<FhirResource>);
      await cache.putMany('ehr-a', 'Observation', 'all', new Map([['p1', [changed]]]));
      expect((await cache.getMany('ehr-a', 'Observation', 'all', ['p1'])).get('p1')?.resources).toEqual([changed]);
    });

    it('keeps included resources of other types, and skips patients whose result has a resource without id', async () => {
      const practitioner = { resourceType: 'Practitioner', id: 'dr1' } as FhirResource;
      const noId = { resourceType: 'Observation', status: 'final' } as FhirResource;
      await cache.putMany(
        'ehr-a',
        'Observation',
        'all',
        new Map([
          ['p1', [observation('o1', 'p1'), practitioner]],
          ['p2', [observation('o2', 'p2'), noId]],
        ]),
      );
      const got = await cache.getMany('ehr-a', 'Observation', 'all', ['p1', 'p2']);
      expect(got.get('p1')?.resources).toEqual([observation('o1', 'p1'), practitioner]);
      expect(got.has('p2')).toBe(false);
      expect(await ctx.db.prisma.cachedResource.count({ where: { resourceType: 'Practitioner' } })).toBe(1);
    });
  },
  { onQuery: (e) => queries.push(e.query) },
);
