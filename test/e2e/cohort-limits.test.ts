import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fhirSources } from '../../config/config.schema.js';
import { gatewayPopulationSyncDeps } from '../../sync/gateway-population-sync.js';
import { syncSources } from '../../sync/population-sync.js';
import { testDatabaseKinds } from '../helpers/databases.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

// A cohort request must not stall the gateway (issues 11 and 13): cohorts cost what their SQL
// costs, a request holds a few of them at most, and their SQL ends with the request's
// deadline. Over real HTTP, on PostgreSQL, where a statement can be cut short.

const DEADLINE_MS = 3_000;

/** The reported attack: 30 aliases of a 100-criteria cohort with a three-dimension breakdown. */
function aliasBomb(aliases: number): string {
  const fields = Array.from({ length: aliases }, (_, i) => `c${i}: cohort(criteria: { observations: $o, ageMin: ${i} }) { totalCount breakdown(by: [AGE_GROUP, GENDER, SOURCE]) { count } }`);
  return `query($o: [ObservationCriterion!]) { ${fields.join('\n')} }`;
}
const loincCriteria = (n: number) => Array.from({ length: n }, (_, i) => ({ code: `http://loinc.org|${10000 + i}-${i % 10}`, minValue: i }));

describe.skipIf(!testDatabaseKinds().includes('postgresql'))('cohort limits and deadline (postgresql)', () => {
  let t: TestGateway;
  let everyone: string[];
  let perSource: Map<string, number>;

  beforeAll(async () => {
    t = await startTestGateway({ database: 'postgresql', sandbox: { maxPatients: 4 }, limits: { requestDeadlineMs: DEADLINE_MS } });
    const s = t.gateway.services;
    const results = await syncSources(
      fhirSources(t.config),
      gatewayPopulationSyncDeps({ ...s, prisma: s.database.prisma, strongIdentifierSystems: t.config.identity.strongIdentifierSystems }),
    );
    expect(results.map((r) => r.status)).toEqual(['complete', 'complete']);
    const links = await s.database.prisma.patientLink.findMany({ select: { unifiedId: true, sourceId: true } });
    everyone = [...new Set(links.map((l) => l.unifiedId))].sort();
    perSource = new Map();
    for (const src of new Set(links.map((l) => l.sourceId))) perSource.set(src, new Set(links.filter((l) => l.sourceId === src).map((l) => l.unifiedId)).size);
    expect(everyone.length).toBeGreaterThan(0);
  }, 300_000);
  afterAll(() => t?.close());

  it('refuses the 30-alias, 100-criteria cohort with the cost error before running it', async () => {
    const res = await t.query(aliasBomb(30), { o: loincCriteria(100) }, 'analyst');
    expect(res.status).toBe(400);
    expect(res.data).toBeUndefined();
    // 30 cohorts x 1,000 per criterion x 101 criteria (100 observations, ageMin) x 5 statement weights (members 1, breakdown 1 + 3), plus the objects.
    expect(res.errors).toHaveLength(1);
    expect(res.errors![0]!.extensions).toMatchObject({ code: 'GRAPHQL_VALIDATION_FAILED', limit: 'cost', max: 1_000_000 });
    expect(res.errors![0]!.extensions!.actual).toBe(30 * (1_000 * 101 * 5 + 2));
  });

  it('refuses more cohort fields than limits.maxCohortsPerRequest, and answers as many', async () => {
    const many = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `c${i}: cohort(criteria: {}) { totalCount }`).join(' ')} }`;
    const refused = await t.query(many(6));
    expect(refused.status).toBe(400);
    expect(refused.errors).toHaveLength(1);
    expect(refused.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit: 'maxCohortsPerRequest', max: 5, actual: 6 });
    // Fragments do not hide a cohort from the count.
    const viaFragment = await t.query(`{ ...F c5: cohort(criteria: {}) { totalCount } } fragment F on Query { ${Array.from({ length: 5 }, (_, i) => `c${i}: cohort(criteria: {}) { totalCount }`).join(' ')} }`);
    expect(viaFragment.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit: 'maxCohortsPerRequest', actual: 6 });

    const ok = await t.query(many(5));
    expect(ok.errors).toBeUndefined();
    expect(Object.values(ok.data)).toEqual(Array.from({ length: 5 }, () => ({ totalCount: everyone.length })));
  });

  it('takes at most 20 observation criteria in one cohort', async () => {
    const q = `query($o: [ObservationCriterion!]) { cohort(criteria: { observations: $o }) { totalCount } }`;
    const refused = await t.query(q, { o: loincCriteria(21) });
    expect(refused.errors).toHaveLength(1);
    expect(refused.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'criteria.observations', max: 20 });
    const ok = await t.query(q, { o: loincCriteria(20) });
    expect(ok.errors).toBeUndefined();
    // None of these made-up codes is in the store.
    expect(ok.data.cohort.totalCount).toBe(0);
  });

  it('ends a cohort whose SQL runs past the request deadline with UPSTREAM_TIMEOUT / REQUEST_DEADLINE, and the next cohort runs', async () => {
    // Another session holds the facts table: the cohort's statement waits for it, as it
    // would behind any slow statement, until its statement timeout ends it.
    const locker = new pg.Client({ connectionString: t.config.cache.url });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE clinical_fact IN ACCESS EXCLUSIVE MODE');
      const res = await t.query(`{ cohort(criteria: { conditions: ["http://snomed.info/sct|44054006"] }) { totalCount } }`);
      await locker.query('ROLLBACK');
      expect(res.status).toBe(200);
      expect(res.errors).toHaveLength(1);
      expect(res.errors![0]).toMatchObject({ path: ['cohort'], extensions: { code: 'UPSTREAM_TIMEOUT', reason: 'REQUEST_DEADLINE' } });
      expect(res.errors![0]!.message).not.toContain('44054006');
    } finally {
      await locker.end();
    }

    const after = await t.query(`{ cohort(criteria: {}) { totalCount breakdown(by: [SOURCE]) { keys count } } }`);
    expect(after.errors).toBeUndefined();
    expect(after.data.cohort.totalCount).toBe(everyone.length);
    expect(after.data.cohort.breakdown).toEqual([...perSource.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([src, count]) => ({ keys: [src], count })));
  }, 60_000);
});
