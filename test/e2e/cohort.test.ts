import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { suppressSmallCells } from '../../analytics/suppression.js';
import { fhirSources } from '../../config/config.schema.js';
import { ageInYears } from '../../deid/safe-harbor.js';
import { syncSources } from '../../sync/population-sync.js';
import { gatewayPopulationSyncDeps } from '../../sync/gateway-population-sync.js';
import { testDatabaseKinds } from '../helpers/databases.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

// Cohorts over real HTTP on the sandbox's fixture patients: filled by a sync with resources,
// checked against what the same gateway answers live from the EHRs for each patient.

const DIABETES = 'http://snomed.info/sct|44054006';
const PREDIABETES = 'http://snomed.info/sct|15777000';
const HBA1C = 'http://loinc.org|4548-4';
const THRESHOLD = 3;

const COHORT = `query($c: CohortCriteria!, $first: Int, $after: String) {
  cohort(criteria: $c, first: $first, after: $after) {
    totalCount nodes { id } edges { cursor node { id } } pageInfo { hasNextPage endCursor }
  }
}`;

function decade(birthDate: string | null): string {
  const age = ageInYears(birthDate, new Date());
  if (age === null) return 'unknown';
  return age >= 90 ? '90+' : `${Math.floor(age / 10) * 10}-${Math.floor(age / 10) * 10 + 9}`;
}

for (const kind of testDatabaseKinds()) {
  describe(`cohorts (${kind})`, () => {
    let t: TestGateway;
    let everyone: string[];
    /** Per unified id, what the gateway answers live from the EHRs. */
    let live: Map<string, { gender: string | null; birthDate: string | null; diabetes: number; prediabetes: number; latestA1c: number | null }>;

    const ids = async (criteria: Record<string, unknown>, role: Parameters<TestGateway['query']>[2] = 'clinician') => {
      const res = await t.query(COHORT, { c: criteria, first: 1000 }, role);
      expect(res.errors).toBeUndefined();
      return { total: res.data.cohort.totalCount as number | null, ids: (res.data.cohort.nodes as { id: string }[]).map((n) => n.id) };
    };

    beforeAll(async () => {
      t = await startTestGateway({ database: kind, analytics: { suppressionThreshold: THRESHOLD } });
    }, 120_000);
    afterAll(async () => t?.close());

    it('says no source is synced before the first sync, and finds nobody', async () => {
      const res = await t.query(`{ cohort(criteria: {}) { totalCount nodes { id } freshness { asOf oldestFetchedAt sourcesNotSynced sourcesSyncing } } }`);
      expect(res.errors).toBeUndefined();
      expect(res.data.cohort.totalCount).toBe(0);
      expect(res.data.cohort.freshness).toMatchObject({ oldestFetchedAt: null, sourcesNotSynced: ['mercy', 'stjude'], sourcesSyncing: [] });
    });

    it('after sync --resources, selects by condition exactly the patients whose live chart has it', async () => {
      const started = new Date();
      const s = t.gateway.services;
      const results = await syncSources(
        fhirSources(t.config),
        gatewayPopulationSyncDeps({ ...s, prisma: s.database.prisma, strongIdentifierSystems: t.config.identity.strongIdentifierSystems }),
      );
      expect(results.map((r) => [r.sourceId, r.status, r.resourceErrors])).toEqual([
        ['mercy', 'complete', 0],
        ['stjude', 'complete', 0],
      ]);
      const links = await s.database.prisma.patientLink.findMany({ select: { unifiedId: true } });
      everyone = [...new Set(links.map((l) => l.unifiedId))].sort();
      expect(everyone.length).toBeGreaterThanOrEqual(15);

      const res = await t.query(
        `query($ids: [ID!]!) { patients(ids: $ids) { id gender birthDate
          d: conditions(code: "${DIABETES}") { totalCount } p: conditions(code: "${PREDIABETES}") { totalCount }
          a1c: observations(code: "${HBA1C}", first: 1) { nodes { valueQuantity { value unit } } } } }`,
        { ids: everyone },
      );
      expect(res.errors).toBeUndefined();
      live = new Map(
        res.data.patients.map((p: any) => [
          p.id,
          { gender: p.gender, birthDate: p.birthDate, diabetes: p.d.totalCount, prediabetes: p.p.totalCount, latestA1c: p.a1c.nodes[0]?.valueQuantity?.value ?? null },
        ]),
      );

      const expected = everyone.filter((id) => live.get(id)!.diabetes + live.get(id)!.prediabetes > 0);
      expect(expected.length).toBeGreaterThan(0);
      expect(await ids({ conditions: [DIABETES, PREDIABETES] })).toEqual({ total: expected.length, ids: expected });
      expect((await ids({ conditions: [PREDIABETES] })).ids).toEqual(everyone.filter((id) => live.get(id)!.prediabetes > 0));
      // A code without its system matches any system; a wrong system matches nothing.
      expect((await ids({ conditions: ['15777000'] })).ids).toEqual(everyone.filter((id) => live.get(id)!.prediabetes > 0));
      expect((await ids({ conditions: ['http://loinc.org|15777000'] })).ids).toEqual([]);

      const f = await t.query(`{ cohort(criteria: {}) { totalCount freshness { asOf oldestFetchedAt sourcesNotSynced sourcesSyncing } } }`, {}, 'analyst');
      expect(f.data.cohort.totalCount).toBe(everyone.length);
      const fresh = f.data.cohort.freshness;
      expect(fresh.sourcesNotSynced).toEqual([]);
      expect(fresh.sourcesSyncing).toEqual([]);
      // Times of the store, not of patients: analysts get them whole.
      expect(new Date(fresh.oldestFetchedAt).getTime()).toBeGreaterThanOrEqual(started.getTime() - 1000);
      expect(fresh.asOf).toMatch(/^\d{4}-\d{2}-\d{2}T/);
      // A whole sync of the sandbox: minutes on a busy two-core machine.
    }, 300_000);

    it('selects by the latest HbA1c value, by gender and by age, as the live charts say', async () => {
      const withA1c = everyone.filter((id) => live.get(id)!.latestA1c !== null);
      expect(withA1c.length).toBeGreaterThan(0);
      // A cut halfway between two distinct values: stored values are normalised to six
      // significant digits, so a cut on a value itself would fall on rounding noise.
      const values = [...new Set(withA1c.map((id) => live.get(id)!.latestA1c!))].sort((a, b) => a - b);
      const mid = Math.max(1, Math.floor(values.length / 2));
      const cut = values.length > 1 ? (values[mid - 1]! + values[mid]!) / 2 : values[0]! - 0.05;
      const above = withA1c.filter((id) => live.get(id)!.latestA1c! >= cut);
      expect((await ids({ observations: [{ code: HBA1C, minValue: cut, unit: '%' }] })).ids).toEqual(above);
      expect((await ids({ observations: [{ code: HBA1C, maxValue: cut, unit: '%' }] })).ids).toEqual(withA1c.filter((id) => live.get(id)!.latestA1c! < cut));
      expect((await ids({ observations: [{ code: HBA1C }] })).ids).toEqual(withA1c);

      const women = everyone.filter((id) => live.get(id)!.gender === 'female');
      expect((await ids({ gender: 'female' })).ids).toEqual(women);
      const age = (id: string) => ageInYears(live.get(id)!.birthDate, new Date());
      expect((await ids({ ageMin: 30, ageMax: 59 })).ids).toEqual(everyone.filter((id) => age(id) !== null && age(id)! >= 30 && age(id)! <= 59));
      // AND between fields.
      expect((await ids({ gender: 'female', ageMin: 40 })).ids).toEqual(women.filter((id) => age(id) !== null && age(id)! >= 40));
      expect((await ids({ sources: ['stjude'] })).ids.length).toBeLessThan(everyone.length);
    });

    it('gives analysts the same patients under pseudonyms, which patients(ids:) accepts back with their labs', async () => {
      const criteria = { conditions: [DIABETES, PREDIABETES] };
      const clinician = await ids(criteria);
      const analyst = await ids(criteria, 'analyst');
      const pseudonyms = t.gateway.services.deid!.pseudonyms;
      expect(analyst.ids.sort()).toEqual(clinician.ids.map((id) => pseudonyms.patientId(id)).sort());
      expect(analyst.total).toBe(clinician.total! >= THRESHOLD ? clinician.total : null);
      for (const id of analyst.ids) expect(clinician.ids).not.toContain(id);

      const back = await t.query(
        `query($ids: [ID!]!) { patients(ids: $ids) { id ageGroup observations(code: "${HBA1C}", first: 1) { nodes { valueQuantity { value } effective } } } }`,
        { ids: analyst.ids },
        'analyst',
      );
      expect(back.errors).toBeUndefined();
      expect(back.data.patients.map((p: any) => p.id)).toEqual(analyst.ids);
      for (const p of back.data.patients) {
        const real = clinician.ids.find((id) => pseudonyms.patientId(id) === p.id)!;
        expect(p.observations.nodes[0]?.valueQuantity.value ?? null).toBe(live.get(real)!.latestA1c);
      }
      // Clinicians cannot use pseudonyms, analysts cannot use real ids.
      const wrong = await t.query(`query($ids: [ID!]!) { patients(ids: $ids) { id } }`, { ids: [clinician.ids[0]] }, 'analyst');
      expect(wrong.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      const wrong2 = await t.query(`query($ids: [ID!]!) { patients(ids: $ids) { id } }`, { ids: [analyst.ids[0]] }, 'clinician');
      expect(wrong2.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    });

    it('asks the latest labs of the page in the same query, and pages through every member once', async () => {
      const all = await ids({});
      const seen: string[] = [];
      let after: string | null = null;
      for (let i = 0; i < 100; i++) {
        const res: any = await t.query(COHORT, { c: {}, first: 4, after }, 'clinician');
        seen.push(...res.data.cohort.edges.map((e: any) => e.node.id));
        if (!res.data.cohort.pageInfo.hasNextPage) break;
        after = res.data.cohort.pageInfo.endCursor;
      }
      expect(seen).toEqual(all.ids);
      const res = await t.query(`{ cohort(criteria: { observations: [{ code: "${HBA1C}" }] }, first: 50) { nodes { id observations(code: "${HBA1C}", first: 1) { nodes { valueQuantity { value } } } } } }`);
      expect(res.errors).toBeUndefined();
      for (const n of res.data.cohort.nodes) expect(n.observations.nodes[0].valueQuantity.value).toBe(live.get(n.id)!.latestA1c);
    });

    it('breaks down exactly for clinicians and suppresses small and complementary cells for analysts', async () => {
      const q = `{ cohort(criteria: {}) { totalCount breakdown(by: [GENDER, AGE_GROUP]) { keys count suppressed } g: breakdown(by: [GENDER]) { keys count suppressed } } }`;
      const exact = await t.query(q);
      expect(exact.errors).toBeUndefined();
      const counts = new Map<string, number>();
      for (const id of everyone) {
        const k = JSON.stringify([live.get(id)!.gender ?? 'unknown', decade(live.get(id)!.birthDate)]);
        counts.set(k, (counts.get(k) ?? 0) + 1);
      }
      const expectedCells = [...counts.entries()].map(([k, count]) => ({ keys: JSON.parse(k) as string[], count, suppressed: false }));
      const byKeys = (a: { keys: string[] }, b: { keys: string[] }) => (a.keys.join('\u0000') < b.keys.join('\u0000') ? -1 : 1);
      expect([...exact.data.cohort.breakdown].sort(byKeys)).toEqual(expectedCells.sort(byKeys));

      const deid = await t.query(q, {}, 'analyst');
      expect(deid.errors).toBeUndefined();
      const cells = deid.data.cohort.breakdown as { keys: string[]; count: number | null; suppressed: boolean }[];
      expect(cells).toEqual(suppressSmallCells(exact.data.cohort.breakdown, THRESHOLD));
      expect(cells.some((c) => c.suppressed)).toBe(true);
      for (const c of cells) if (c.count !== null) expect(c.count).toBeGreaterThanOrEqual(THRESHOLD);
      // No line (one gender across ages, one age group across genders) leaves exactly one
      // cell hidden, unless it is its line's only cell: then its margin is hidden too.
      const margins = new Map((deid.data.cohort.g as { keys: string[]; suppressed: boolean }[]).map((c) => [c.keys[0], c.suppressed]));
      for (const d of [0, 1]) {
        for (const value of new Set(cells.map((c) => c.keys[1 - d]))) {
          const line = cells.filter((c) => c.keys[1 - d] === value);
          if (line.filter((c) => c.suppressed).length !== 1) continue;
          expect(line).toHaveLength(1);
          if (d === 1) expect(margins.get(value)).toBe(true);
        }
      }
    });

    it('audits every cohort query with its criteria and breakdowns, and no patient values', async () => {
      await t.gateway.services.auditWriter.flush();
      const before = await t.gateway.services.database.prisma.auditEvent.count();
      const res = await t.query(
        `query Dashboard { cohort(criteria: { encounterSince: "2000-01-01", ageMin: 20 }) { totalCount breakdown(by: [AGE_GROUP]) { count } nodes { id gender } } }`,
        {},
        'analyst',
        { 'x-purpose-of-use': 'HOPERAT' },
      );
      expect(res.errors).toBeUndefined();
      await t.gateway.services.auditWriter.flush();
      const events = await t.gateway.services.database.prisma.auditEvent.findMany({ orderBy: { at: 'asc' }, skip: before });
      expect(events).toHaveLength(1);
      const e = events[0]!;
      expect(e).toMatchObject({ role: 'analyst', purposeOfUse: 'HOPERAT', action: 'read', outcome: 'success' });
      expect(e.fieldGroups).toEqual(['cohort', 'demographics']);
      expect(e.detail).toMatchObject({
        operationName: 'Dashboard',
        lookups: ['cohort'],
        cohorts: [{ criteria: { encounterSince: '2000-01-01', ageMin: 20 }, breakdowns: [['AGE_GROUP']] }],
      });
      const text = JSON.stringify(e.detail);
      for (const id of everyone) expect(text).not.toContain(id);
    });

    it('lets each role use only the criteria and dimensions its field permissions allow', async () => {
      const code = async (query: string, role: Parameters<TestGateway['query']>[2]) => {
        const res = await t.query(query, {}, role);
        return res.errors?.[0]?.extensions?.code ?? 'OK';
      };
      const byCondition = `{ cohort(criteria: { conditions: ["${DIABETES}"] }) { totalCount } }`;
      const byLab = `{ cohort(criteria: { observations: [{ code: "${HBA1C}", minValue: 6.5, unit: "%" }] }) { totalCount } }`;
      const byPayer = `{ cohort(criteria: {}) { breakdown(by: [PAYER]) { keys count } } }`;
      const byPayerCriterion = `{ cohort(criteria: { payers: ["Medicaid"] }) { totalCount } }`;
      const matrix = Object.fromEntries(
        await Promise.all(
          (['clinician', 'care_coordinator', 'billing', 'analyst', 'admin'] as const).map(async (role) => [
            role,
            [await code(byCondition, role), await code(byLab, role), await code(byPayer, role), await code(byPayerCriterion, role)],
          ]),
        ),
      );
      expect(matrix).toEqual({
        clinician: ['OK', 'OK', 'FORBIDDEN', 'FORBIDDEN'],
        care_coordinator: ['OK', 'FORBIDDEN', 'OK', 'OK'],
        billing: ['FORBIDDEN', 'FORBIDDEN', 'FORBIDDEN', 'FORBIDDEN'],
        analyst: ['OK', 'OK', 'FORBIDDEN', 'FORBIDDEN'],
        admin: ['OK', 'OK', 'OK', 'OK'],
      });
    });

    it('refuses bad criteria with BAD_USER_INPUT naming the argument', async () => {
      const bad = async (criteria: string, role: Parameters<TestGateway['query']>[2] = 'clinician') => {
        const res = await t.query(`{ cohort(criteria: ${criteria}) { totalCount } }`, {}, role);
        return [res.errors?.[0]?.extensions?.code, res.errors?.[0]?.extensions?.argument];
      };
      expect(await bad('{ conditions: ["a|b|c"] }')).toEqual(['BAD_USER_INPUT', 'criteria.conditions[0]']);
      expect(await bad('{ sources: ["nowhere"] }')).toEqual(['BAD_USER_INPUT', 'criteria.sources[0]']);
      expect(await bad('{ ageMin: 50, ageMax: 40 }')).toEqual(['BAD_USER_INPUT', 'criteria.ageMin']);
      expect(await bad('{ observations: [{ code: "x", minValue: 5, maxValue: 1 }] }')).toEqual(['BAD_USER_INPUT', 'criteria.observations[0].minValue']);
      expect(await bad('{ ageMax: 95 }', 'analyst')).toEqual(['BAD_USER_INPUT', 'criteria.ageMax']);
      const res = await t.query(`{ cohort(criteria: {}) { breakdown(by: []) { count } } }`);
      expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    });
  });
}
