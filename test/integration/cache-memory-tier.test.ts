import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../datasources/cache/database.js';
import { TieredSearchCache } from '../../datasources/cache/memory-search-cache.js';
import { PrismaSearchCache } from '../../datasources/cache/prisma-search-cache.js';
import type { FhirResource } from '../../datasources/fhir/fhir-types.js';

// The in-memory tier over the real database cache (PGlite): repeat reads skip the database,
// expiry and invalidation behave as with the database alone.

let db: Database;
let queries = 0;
beforeAll(async () => {
  db = await openDatabase('pglite:memory:', { onQuery: () => void queries++ });
});
afterAll(async () => db?.close());

const conditions = (n: number, patient: string): FhirResource[] =>
  Array.from({ length: n }, (_, i) => ({ resourceType: 'Condition', id: `${patient}-c${i}`, subject: { reference: `Patient/${patient}` } }) as FhirResource);

describe('TieredSearchCache', () => {
  it('answers repeat reads from memory, with no database query', async () => {
    const cache = new TieredSearchCache(new PrismaSearchCache(db.prisma, { ttlSeconds: {}, defaultTtlSeconds: 60 }), { maxResources: 1000 });
    await cache.putMany('mercy', 'Condition', '', new Map([['p1', conditions(3, 'p1')]]));
    queries = 0;
    const hit = await cache.getMany('mercy', 'Condition', '', ['p1']);
    expect(hit.get('p1')!.resources.map((r) => r.id)).toEqual(['p1-c0', 'p1-c1', 'p1-c2']);
    expect(queries).toBe(0);

    // A new process (a fresh memory tier) reads the shared copy once, then from memory.
    const other = new TieredSearchCache(new PrismaSearchCache(db.prisma, { ttlSeconds: {}, defaultTtlSeconds: 60 }), { maxResources: 1000 });
    expect((await other.getMany('mercy', 'Condition', '', ['p1'])).get('p1')!.resources).toHaveLength(3);
    const afterFirst = queries;
    expect(afterFirst).toBeGreaterThan(0);
    await other.getMany('mercy', 'Condition', '', ['p1']);
    expect(queries).toBe(afterFirst);
  });

  it('keeps expiry: past its TTL an entry is only returned when stale ones are asked for, marked stale', async () => {
    const cache = new TieredSearchCache(new PrismaSearchCache(db.prisma, { ttlSeconds: { Observation: 0 }, defaultTtlSeconds: 60 }), { maxResources: 1000 });
    await cache.putMany('mercy', 'Observation', '', new Map([['p2', []]]), new Date(Date.now() - 1000));
    expect((await cache.getMany('mercy', 'Observation', '', ['p2'])).size).toBe(0);
    const stale = await cache.getMany('mercy', 'Observation', '', ['p2'], { includeStale: true });
    expect(stale.get('p2')).toMatchObject({ resources: [], stale: true });
  });

  it('forgets invalidated entries in memory and in the database', async () => {
    const cache = new TieredSearchCache(new PrismaSearchCache(db.prisma, { ttlSeconds: {}, defaultTtlSeconds: 60 }), { maxResources: 1000 });
    await cache.putMany('stjude', 'Condition', '', new Map([['p3', conditions(1, 'p3')], ['p4', conditions(1, 'p4')]]));
    expect(await cache.invalidate({ sourceId: 'stjude', sourcePatientIds: ['p3'] })).toBe(1);
    const left = await cache.getMany('stjude', 'Condition', '', ['p3', 'p4']);
    expect([...left.keys()]).toEqual(['p4']);
  });

  it('holds at most maxResources in memory, evicting the least recently used', async () => {
    const cache = new TieredSearchCache(new PrismaSearchCache(db.prisma, { ttlSeconds: {}, defaultTtlSeconds: 60 }), { maxResources: 10 });
    await cache.putMany('mercy', 'Procedure', '', new Map([['a', conditions(5, 'a')], ['b', conditions(5, 'b')]]));
    queries = 0;
    await cache.getMany('mercy', 'Procedure', '', ['b']); // b fits (6); a (6) was evicted
    expect(queries).toBe(0);
    await cache.getMany('mercy', 'Procedure', '', ['a']);
    expect(queries).toBeGreaterThan(0);
  });
});
