import { Kind, parse, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { createDocumentSizeCheck } from '../../server/plugins/document-size.js';
import { checkStringLengths, createCostEstimator, estimateCost } from '../../server/plugins/limits.js';
import { buildBareSchema } from '../../server/schema.js';

// The per-document work of the limits is remembered per document; these check that a
// remembered answer is the one a fresh computation gives, whatever the variables.

const DASHBOARD = parse(`query Dashboard($ids: [ID!]!, $n: Int) {
  patients(ids: $ids) { id conditions(first: $n) { nodes { id } } observations(first: 20) { nodes { id } } }
}`);
const operationOf = (doc: typeof DASHBOARD) => doc.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;

describe('cost estimates remembered per document', () => {
  it('follow the variables the estimate reads (ids, first), and only those', async () => {
    const schema = await buildBareSchema();
    const estimate = createCostEstimator();
    const op = operationOf(DASHBOARD);
    const cases = [
      { ids: ['a', 'b'], n: 10 },
      { ids: ['c', 'd'], n: 10 }, // other ids, same shape: the remembered estimate
      { ids: ['a', 'b', 'c'], n: 10 },
      { ids: ['a', 'b'], n: 500 },
      { ids: ['a', 'b'] }, // no `first`: the default page size
      { ids: ['a', 'b'], n: 10 },
    ];
    const got = cases.map((v) => estimate(schema, DASHBOARD, op, v));
    expect(got).toEqual(cases.map((v) => estimateCost(schema, DASHBOARD, op, v)));
    // 2 patients x (1 + conditions (1 + 10 nodes) + observations (1 + 20 nodes)) = 2 x 33
    expect(got[0]).toEqual({ cost: 66, patients: 2, cohorts: 0 });
    expect(got[2]).toEqual({ cost: 99, patients: 3, cohorts: 0 });
    expect(got[3]!.cost).toBe(2 * (1 + 1 + 500 + 1 + 20));
    expect(got[4]!.cost).toBe(2 * (1 + 1 + 50 + 1 + 20));
    expect(got[1]).toBe(got[0]);
  });
});

describe('cohort cost estimates remembered per document', () => {
  it('follow the criteria inside an input-object variable', async () => {
    const schema = await buildBareSchema();
    const estimate = createCostEstimator();
    const doc = parse('query($c: CohortCriteria!) { cohort(criteria: $c) { totalCount } }');
    const op = operationOf(doc);
    const codes = (n: number) => Array.from({ length: n }, (_, i) => `http://snomed.info/sct|${i}`);
    const cases = [{ c: { gender: 'female' } }, { c: { conditions: codes(100) } }, { c: { conditions: codes(100), gender: 'male' } }, { c: { gender: 'male' } }];
    const got = cases.map((v) => estimate(schema, doc, op, v));
    expect(got).toEqual(cases.map((v) => estimateCost(schema, doc, op, v)));
    expect(got[1]!.cost).toBeGreaterThan(50 * got[0]!.cost);
    expect(got[3]).toBe(got[0]);
  });
});

describe('string literal findings remembered per document', () => {
  it('still check the variables of every request', () => {
    const doc = parse('query($name: String) { searchPatients(name: $name) { totalCount } }');
    const literals = new WeakMap();
    expect(() => checkStringLengths(doc, { name: 'short' }, 10, literals)).not.toThrow();
    expect(() => checkStringLengths(doc, { name: 'far longer than ten' }, 10, literals)).toThrow('`$name` is longer than 10 characters');
    const long = parse('{ searchPatients(name: "far longer than ten") { totalCount } }');
    for (let i = 0; i < 2; i++) expect(() => checkStringLengths(long, {}, 10, literals)).toThrow('`name` is longer than 10 characters');
  });
});

describe('document size remembered per text', () => {
  it('refuses the same oversized text every time, and lets the same small one through', () => {
    const check = createDocumentSizeCheck({ maxFields: 3, maxTokens: 1000 });
    const flood = '{ a b c d }';
    for (let i = 0; i < 2; i++) {
      let err: unknown;
      try {
        check(flood);
      } catch (e) {
        err = e;
      }
      expect(err).toMatchObject({ message: 'Document selects 4 fields, at most 3 allowed', extensions: { code: 'GRAPHQL_VALIDATION_FAILED', limit: 'fields', max: 3, actual: 4 } });
    }
    for (let i = 0; i < 2; i++) expect(() => check('{ a b c }')).not.toThrow();
    expect(() => check(undefined)).not.toThrow();
  });
});
