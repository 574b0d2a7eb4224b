import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

// Pages of one clinical list (observations, 5 a page), walked with cursors, fresh and then from the cache: the pages
// join up to the whole list, edges and `nodes` agree, and a repeat served from the cache
// (where the merged list is kept and only the page is copied) answers exactly the same.

const PAGE = `query($id: ID!, $after: String) {
  patient(id: $id) {
    observations(first: 5, after: $after) {
      totalCount
      nodes { id effective }
      edges { cursor node { id } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
}`;
const ALL = `query($id: ID!) { patient(id: $id) { observations(first: 1000) { totalCount nodes { id effective } } } }`;

let t: TestGateway;
let id: string;
beforeAll(async () => {
  t = await startTestGateway({ sandbox: { maxPatients: 6 }, cache: { defaultTtlSeconds: 3600 } });
  const person = t.sandbox.truth.patients.find((p) => p.ehrs.mercy && p.ehrs.stjude)!;
  const found = await t.query('query($v: String!) { patientByIdentifier(system: "http://mercy.example/fhir/mrn", value: $v) { id } }', { v: person.ehrs.mercy!.mrn });
  id = found.data.patientByIdentifier.id;
});
afterAll(async () => t?.close());

async function walk() {
  const pages: any[] = [];
  let after: string | null = null;
  do {
    const r: { data?: any; errors?: unknown } = await t.query(PAGE, { id, after });
    expect(r.errors).toBeUndefined();
    const page: any = r.data.patient.observations;
    pages.push(page);
    after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
  } while (after && pages.length < 100);
  return pages;
}

describe('a clinical list paged with cursors', () => {
  it('joins up to the whole list, fresh and from the cache alike', async () => {
    const whole = (await t.query(ALL, { id })).data.patient.observations;
    expect(whole.totalCount).toBeGreaterThan(10);
    expect(whole.nodes).toHaveLength(whole.totalCount);

    const fresh = await walk();
    t.resetCounts();
    const cached = await walk();
    expect(t.calls.filter((c) => c.resourceType === 'Observation')).toHaveLength(0);
    expect(cached).toEqual(fresh);

    expect(fresh.flatMap((p) => p.nodes)).toEqual(whole.nodes);
    expect(fresh).toHaveLength(Math.ceil(whole.totalCount / 5));
    fresh.forEach((page, i) => {
      expect(page.totalCount).toBe(whole.totalCount);
      expect(page.edges.map((e: any) => e.node.id)).toEqual(page.nodes.map((n: any) => n.id));
      expect(page.pageInfo).toEqual({
        hasNextPage: i < fresh.length - 1,
        hasPreviousPage: i > 0,
        startCursor: page.edges[0].cursor,
        endCursor: page.edges.at(-1).cursor,
      });
      // Cursors are positions in the whole list.
      expect(page.edges.map((e: any) => Buffer.from(e.cursor, 'base64url').toString())).toEqual(page.nodes.map((_: unknown, k: number) => `cg:${i * 5 + k}`));
    });
  });

  it('an empty page past the end has no cursors', async () => {
    const total = (await t.query(ALL, { id })).data.patient.observations.totalCount as number;
    const after = Buffer.from(`cg:${total - 1}`).toString('base64url');
    const r = await t.query(PAGE, { id, after });
    expect(r.errors).toBeUndefined();
    expect(r.data.patient.observations).toEqual({
      totalCount: total,
      nodes: [],
      edges: [],
      pageInfo: { hasNextPage: false, hasPreviousPage: true, startCursor: null, endCursor: null },
    });
  });
});
