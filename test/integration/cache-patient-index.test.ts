import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { PatientIndex, linkKey } from '../../datasources/cache/patient-index.js';
import { createTestDatabase, resetDatabase, testDatabaseKinds, withDatabases, type TestDatabaseHandle } from '../helpers/databases.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const queries: string[] = [];

withDatabases(
  testDatabaseKinds(),
  (ctx) => {
    let index: PatientIndex;
    beforeEach(async () => {
      await resetDatabase(ctx.db);
      index = new PatientIndex(ctx.db.prisma);
      queries.length = 0;
    });

    it('links new source patients into a new unified patient', async () => {
      const id = await index.linkRecords([
        { sourceId: 'ehr-a', sourcePatientId: 'p1', method: 'identifier' },
        { sourceId: 'ehr-b', sourcePatientId: 'x9', method: 'demographic', score: 0.93 },
      ]);
      expect(id).toMatch(UUID);
      const links = await index.findLinks([
        { sourceId: 'ehr-a', sourcePatientId: 'p1' },
        { sourceId: 'ehr-b', sourcePatientId: 'x9' },
        { sourceId: 'ehr-b', sourcePatientId: 'unknown' },
      ]);
      expect([...links.keys()].sort()).toEqual(['ehr-a/p1', 'ehr-b/x9']);
      expect(links.get('ehr-a/p1')).toMatchObject({ unifiedId: id, sourceId: 'ehr-a', sourcePatientId: 'p1', method: 'identifier', score: null });
      expect(links.get('ehr-b/x9')).toMatchObject({ unifiedId: id, method: 'demographic', score: 0.93 });
      expect(links.get('ehr-a/p1')?.createdAt).toBeInstanceOf(Date);
      expect(await ctx.db.prisma.unifiedPatient.count()).toBe(1);
    });

    it('adds records to the unified patient one of them already has, leaving existing links as they are', async () => {
      const id = await index.linkRecords([{ sourceId: 'ehr-a', sourcePatientId: 'p1', method: 'identifier' }]);
      const again = await index.linkRecords([
        { sourceId: 'ehr-a', sourcePatientId: 'p1', method: 'manual' },
        { sourceId: 'ehr-b', sourcePatientId: 'x9', method: 'demographic', score: 0.9 },
      ]);
      expect(again).toBe(id);
      const links = await index.findLinks([{ sourceId: 'ehr-a', sourcePatientId: 'p1' }, { sourceId: 'ehr-b', sourcePatientId: 'x9' }]);
      expect(links.get('ehr-a/p1')).toMatchObject({ unifiedId: id, method: 'identifier' });
      expect(links.get('ehr-b/x9')).toMatchObject({ unifiedId: id, method: 'demographic' });
      expect(await ctx.db.prisma.unifiedPatient.count()).toBe(1);
    });

    it('keeps the oldest unified patient when records already belong to two, and merges nothing', async () => {
      const older = await index.linkRecords([{ sourceId: 'ehr-a', sourcePatientId: 'p1', method: 'identifier' }]);
      await new Promise((r) => setTimeout(r, 5));
      const newer = await index.linkRecords([{ sourceId: 'ehr-b', sourcePatientId: 'x9', method: 'identifier' }]);
      expect(newer).not.toBe(older);
      const id = await index.linkRecords([
        { sourceId: 'ehr-b', sourcePatientId: 'x9', method: 'manual' },
        { sourceId: 'ehr-a', sourcePatientId: 'p1', method: 'manual' },
        { sourceId: 'ehr-c', sourcePatientId: 'c3', method: 'manual' },
      ]);
      expect(id).toBe(older);
      const links = await index.findLinks([
        { sourceId: 'ehr-a', sourcePatientId: 'p1' },
        { sourceId: 'ehr-b', sourcePatientId: 'x9' },
        { sourceId: 'ehr-c', sourcePatientId: 'c3' },
      ]);
      expect(links.get('ehr-a/p1')?.unifiedId).toBe(older);
      expect(links.get('ehr-b/x9')?.unifiedId).toBe(newer);
      expect(links.get('ehr-c/c3')?.unifiedId).toBe(older);
    });

    it('treats repeated records in one call as one', async () => {
      const id = await index.linkRecords([
        { sourceId: 'ehr-a', sourcePatientId: 'p1', method: 'identifier' },
        { sourceId: 'ehr-a', sourcePatientId: 'p1', method: 'manual' },
      ]);
      const links = await index.linksForUnified([id]);
      expect(links.get(id)).toHaveLength(1);
      expect(links.get(id)?.[0].method).toBe('identifier');
    });

    it('refuses an empty call', async () => {
      await expect(index.linkRecords([])).rejects.toThrow(TypeError);
    });

    it('finds links for many source patients in one query', async () => {
      await index.linkRecords([{ sourceId: 'ehr-a', sourcePatientId: 'p1', method: 'identifier' }]);
      await index.linkRecords([{ sourceId: 'ehr-b', sourcePatientId: 'x1', method: 'identifier' }]);
      const records = [
        ...Array.from({ length: 100 }, (_, i) => ({ sourceId: 'ehr-a', sourcePatientId: `p${i}` })),
        ...Array.from({ length: 100 }, (_, i) => ({ sourceId: 'ehr-b', sourcePatientId: `x${i}` })),
      ];
      queries.length = 0;
      const links = await index.findLinks(records);
      expect(queries).toHaveLength(1);
      expect([...links.keys()].sort()).toEqual(['ehr-a/p1', 'ehr-b/x1']);
      queries.length = 0;
      expect(await index.findLinks([])).toEqual(new Map());
      expect(queries).toHaveLength(0);
    });

    it('lists links per unified id in one query, with an empty list for ids nothing links to', async () => {
      const one = await index.linkRecords([
        { sourceId: 'ehr-a', sourcePatientId: 'p1', method: 'identifier' },
        { sourceId: 'ehr-b', sourcePatientId: 'x1', method: 'identifier' },
      ]);
      const two = await index.linkRecords([{ sourceId: 'ehr-a', sourcePatientId: 'p2', method: 'identifier' }]);
      const nobody = '7b0b7e43-35d6-4c1c-9c59-2f0a3b2a6d11';
      queries.length = 0;
      const links = await index.linksForUnified([one, two, nobody, 'not-a-uuid']);
      expect(queries).toHaveLength(1);
      expect(links.get(one)?.map(linkKey).sort()).toEqual(['ehr-a/p1', 'ehr-b/x1']);
      expect(links.get(two)?.map(linkKey)).toEqual(['ehr-a/p2']);
      expect(links.get(nobody)).toEqual([]);
      expect(links.get('not-a-uuid')).toEqual([]);
    });

    it('gives one unified id to ten concurrent calls for the same new patient', async () => {
      const records = [
        { sourceId: 'ehr-a', sourcePatientId: 'new-1', method: 'identifier' },
        { sourceId: 'ehr-b', sourcePatientId: 'new-2', method: 'identifier' },
      ];
      const ids = await Promise.all(Array.from({ length: 10 }, () => index.linkRecords(records)));
      expect(new Set(ids).size).toBe(1);
      // The losers dropped the unified patients they had started.
      expect(await ctx.db.prisma.unifiedPatient.findMany({ select: { id: true } })).toEqual([{ id: ids[0] }]);
      expect(await ctx.db.prisma.patientLink.count()).toBe(2);
    });

    it('leaves no orphan unified patient when concurrent calls overlap', async () => {
      // Depending on timing this ends with one or two unified patients: once {a,b} and {c,d}
      // are committed apart, {b,c} does not merge them (merging is an admin action).
      const rec = (s: string, p: string) => ({ sourceId: s, sourcePatientId: p, method: 'identifier' });
      const calls = [
        [rec('a', '1'), rec('b', '1')],
        [rec('b', '1'), rec('c', '1')],
        [rec('c', '1'), rec('d', '1')],
        [rec('d', '1'), rec('a', '1')],
      ];
      const ids = await Promise.all(calls.map((c) => index.linkRecords(c)));
      const links = await ctx.db.prisma.patientLink.findMany();
      expect(links).toHaveLength(4);
      const byKey = new Map(links.map((l) => [linkKey(l), l.unifiedId]));
      calls.forEach((records, i) => expect(records.some((r) => byKey.get(linkKey(r)) === ids[i])).toBe(true));
      const unified = await ctx.db.prisma.unifiedPatient.findMany({ select: { id: true } });
      expect(unified.map((u) => u.id).sort()).toEqual([...new Set(byKey.values())].sort());
    });

    it('refuses to undo a merge whose survivor was merged again later, until that later merge is undone', async () => {
      const record = (sourceId: string, id: string) => index.linkRecords([{ sourceId, sourcePatientId: id, method: 'identifier' }]);
      const c = await record('ehr-c', 'c1');
      const a = await record('ehr-a', 'a1');
      const b = await record('ehr-b', 'b1');
      const first = await index.mergePatients(a, b, { method: 'manual', by: 'admin' });
      const second = await index.mergePatients(c, a, { method: 'manual', by: 'admin' });
      if (!first.merged || !second.merged) throw new Error('expected both merges');
      const holdings = async () => {
        const links = await index.linksForUnified([a, b, c]);
        return Object.fromEntries([a, b, c].map((id) => [id, (links.get(id) ?? []).map((l) => l.sourcePatientId).sort()]));
      };
      expect(await holdings()).toEqual({ [a]: [], [b]: [], [c]: ['a1', 'b1', 'c1'] });

      await expect(index.undoMerge(first.merge.id, 'admin')).rejects.toMatchObject({ extensions: { code: 'BAD_USER_INPUT', argument: 'mergeId' } });
      // Nothing moved, and both merges still hold.
      expect(await holdings()).toEqual({ [a]: [], [b]: [], [c]: ['a1', 'b1', 'c1'] });
      expect(await index.survivors([a, b])).toEqual(new Map([[a, c], [b, c]]));

      // Undone in reverse order, each patient gets its own record back.
      expect(await index.undoMerge(second.merge.id, 'admin')).toMatchObject({ survivorId: c, mergedId: a });
      expect(await index.undoMerge(first.merge.id, 'admin')).toMatchObject({ survivorId: a, mergedId: b });
      expect(await holdings()).toEqual({ [a]: ['a1'], [b]: ['b1'], [c]: ['c1'] });
      expect(await index.survivors([a, b, c])).toEqual(new Map());
    });
  },
  { onQuery: (e) => queries.push(e.query) },
);

describe.each(testDatabaseKinds())('links survive a restart on %s', (kind) => {
  let handle: TestDatabaseHandle;
  afterAll(async () => {
    await handle?.dispose();
  });

  it('keeps unified ids across close and reopen', async () => {
    handle = await createTestDatabase(kind);
    const first = await handle.open();
    const id = await new PatientIndex(first.prisma).linkRecords([
      { sourceId: 'ehr-a', sourcePatientId: 'p1', method: 'demographic', score: 0.97 },
    ]);
    await first.close();

    const second = await handle.open();
    const index = new PatientIndex(second.prisma);
    const links = await index.findLinks([{ sourceId: 'ehr-a', sourcePatientId: 'p1' }]);
    expect(links.get('ehr-a/p1')).toMatchObject({ unifiedId: id, method: 'demographic', score: 0.97 });
    expect(await index.linkRecords([{ sourceId: 'ehr-a', sourcePatientId: 'p1', method: 'identifier' }])).toBe(id);
    await second.close();
  });
});
