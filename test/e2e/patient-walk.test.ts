import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fhirSources } from '../../config/config.schema.js';
import { SSN_SYSTEM } from '../../sandbox/index.js';
import { syncSources } from '../../sync/population-sync.js';
import { testDatabaseKinds } from '../helpers/databases.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

// `searchPatients` without criteria pages through every unified patient of the index with a
// keyset cursor: after a sync, the walk returns each patient exactly once, on PGlite and on
// PostgreSQL, for the roles that may see demographics, and never for analysts.

const WALK = `query Walk($first: Int, $after: String) {
  searchPatients(first: $first, after: $after) { totalCount nodes { id name { family } } edges { cursor } pageInfo { hasNextPage endCursor } }
}`;

for (const kind of testDatabaseKinds()) {
  describe(`walking every patient on ${kind}`, () => {
    let t: TestGateway;
    let unified: string[];
    beforeAll(async () => {
      t = await startTestGateway({ database: kind, sandbox: { maxPatients: 12 } });
      const prisma = t.gateway.services.database.prisma;
      await syncSources(fhirSources(t.config), { prisma, index: t.gateway.services.index, strongIdentifierSystems: [SSN_SYSTEM] });
      const rows = await prisma.patientLink.findMany({ distinct: ['unifiedId'], select: { unifiedId: true } });
      unified = rows.map((r) => r.unifiedId).sort();
    });
    afterAll(async () => t?.close());

    it('returns each unified patient exactly once across pages, in a stable order, without asking any source for the list', async () => {
      // Every person of the sandbox population is in the index (how well the sync linked them
      // across sources is the identity tests' business; the walk must return what the index holds).
      expect(unified.length).toBeGreaterThanOrEqual(t.sandbox.truth.patients.length);
      t.resetCounts();
      const seen: string[] = [];
      const pages: number[] = [];
      let after: string | null = null;
      for (let i = 0; i < 20; i++) {
        const res: { errors?: unknown; data?: any } = await t.query(WALK, { first: 5, after }, 'billing');
        expect(res.errors).toBeUndefined();
        const conn: any = res.data.searchPatients;
        expect(conn.totalCount).toBe(unified.length);
        expect(conn.nodes.every((n: any) => typeof n.name?.family === 'string')).toBe(true);
        seen.push(...conn.nodes.map((n: any) => n.id));
        pages.push(conn.nodes.length);
        expect(conn.edges.at(-1)?.cursor ?? null).toBe(conn.pageInfo.endCursor);
        after = conn.pageInfo.endCursor;
        if (!conn.pageInfo.hasNextPage) break;
      }
      expect(new Set(seen).size).toBe(seen.length);
      expect([...seen].sort()).toEqual(unified);
      expect(pages.slice(0, -1).every((n) => n === 5)).toBe(true);
      // The list came from the index alone: the only upstream calls read the Patient resources
      // of the patients on the page (for their names), by id.
      expect(t.calls.length).toBeGreaterThan(0);
      const listing = t.calls.filter((c) => c.interaction === 'search' || c.interaction === 'read');
      expect(listing.length).toBeGreaterThan(0);
      expect(listing.filter((c) => !(c.resourceType === 'Patient' && (c.patients ?? 0) > 0 && (c.patients ?? 0) <= 5 * 2))).toEqual([]);

      // The same walk again gives the same order.
      const again = await t.query(WALK, { first: 100 }, 'clinician');
      expect(again.data.searchPatients.nodes.map((n: any) => n.id)).toEqual(seen);
      expect(again.data.searchPatients.pageInfo.hasNextPage).toBe(false);
    });

    it('is open to clinicians, care coordinators, billing and admins, closed to analysts, and audited', async () => {
      for (const role of ['clinician', 'care_coordinator', 'billing', 'admin'] as const) {
        const res = await t.query(`{ searchPatients(first: 2) { nodes { id } } }`, {}, role);
        expect([role, res.errors]).toEqual([role, undefined]);
        expect(res.data.searchPatients.nodes).toHaveLength(2);
      }
      const analyst = await t.query(`{ searchPatients(first: 2) { nodes { id } } }`, {}, 'analyst');
      expect(analyst.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
      expect(analyst.data?.searchPatients ?? null).toBeNull();

      await t.gateway.services.auditWriter.flush();
      const events = await t.gateway.services.database.prisma.auditEvent.findMany({ where: { role: 'care_coordinator' } });
      const walkEvent = events.find((e) => (e.detail as any)?.lookups?.includes('searchPatients'));
      expect(walkEvent?.patientIds).toHaveLength(2);
      expect(walkEvent?.outcome).toBe('success');
    });

    it('caps the page at 100 and refuses a cursor it did not give out, before any work', async () => {
      t.resetCounts();
      const big = await t.query(WALK, { first: 101 });
      expect(big.errors?.map((e) => [e.extensions?.code, e.message])).toEqual([['BAD_USER_INPUT', '`first` must be between 0 and 100']]);
      const offsetCursor = Buffer.from('cg:3').toString('base64url');
      for (const after of [offsetCursor, Buffer.from('cgw:not-a-uuid').toString('base64url'), 'garbage']) {
        const res = await t.query(WALK, { first: 2, after });
        expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
      }
      expect(t.calls).toEqual([]);
    });
  });
}
