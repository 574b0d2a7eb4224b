import { readFileSync } from 'node:fs';
import { buildSchema, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { ResponseCache } from '../../server/response-cache.js';

const schema = buildSchema(readFileSync(new URL('../../schema/schema.graphql', import.meta.url), 'utf8'));
const cache = () => new ResponseCache(schema, 10_000, 1 << 20);
const clinician = { sub: 'u-1', role: 'clinician' as const, scopes: ['user/*.rs'] };

describe('which answers the response cache may keep', () => {
  it.each([
    ['a patient read by id', '{ patient(id: "x") { id name { text } conditions { nodes { id } } } }', true],
    ['patients by ids, through a fragment', 'query { patients(ids: ["x"]) { ...P } } fragment P on Patient { id observations(first: 3) { totalCount } }', true],
    ['coverage, from the payer', '{ patient(id: "x") { id coverage { status } } }', false],
    ['eligibility, inside a fragment', '{ patient(id: "x") { ...E } } fragment E on Patient { eligibility { status } }', false],
    ['a look-up by identifier (may link and merge)', '{ patientByIdentifier(system: "s", value: "v") { id } }', false],
    ['a cohort', '{ cohort(criteria: {}) { totalCount } }', false],
    ['the audit trail', '{ auditEvents { totalCount } }', false],
    ['a mutation', 'mutation { invalidateCache(patientId: "x") { searches } }', false],
  ])('%s: %s', (_what, text, expected) => {
    expect(cache().mayKeep(parse(text))).toBe(expected);
  });
});

describe('response cache keys', () => {
  const ask = { query: '{ patient(id: $id) { id } }', operationName: null, variables: { id: 'a' } };
  const key = cache().keyFor(clinician, ask);

  it('differ by user, role, scopes, purpose of use, accept header, operation name and variables', () => {
    const c = cache();
    const others = [
      c.keyFor({ ...clinician, sub: 'u-2' }, ask),
      c.keyFor({ ...clinician, role: 'care_coordinator' }, ask),
      c.keyFor({ ...clinician, scopes: ['user/Patient.rs'] }, ask),
      c.keyFor(clinician, { ...ask, purposeOfUse: 'HPAYMT' }),
      c.keyFor(clinician, { ...ask, accept: 'application/graphql-response+json' }),
      c.keyFor(clinician, { ...ask, operationName: 'Other' }),
      c.keyFor(clinician, { ...ask, variables: { id: 'b' } }),
    ];
    expect(new Set([key, ...others]).size).toBe(others.length + 1);
  });

  it('are the same for the same ask, whatever the order of scopes', () => {
    expect(cache().keyFor({ ...clinician, scopes: ['b', 'a'] }, ask)).toBe(cache().keyFor({ ...clinician, scopes: ['a', 'b'] }, ask));
  });

  it('hold no patient data: a digest, not the variables', () => {
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});

describe('kept answers', () => {
  const answer = (subject: string, body = '{}') => ({ subject, body, contentType: 'application/json', expiresAt: Date.now() + 10_000 });

  it('are not given once expired', () => {
    const c = cache();
    expect(c.set('k', { ...answer('u-1'), expiresAt: 1_000 }, c.generation)).toBe(true);
    expect(c.get('k', 999)?.body).toBe('{}');
    expect(c.get('k', 1_000)).toBeUndefined();
    expect(c.size).toBe(0);
  });

  it('are not kept when the cache was emptied while they were made: read before a change, finished after it', () => {
    const c = cache();
    const before = c.generation;
    c.clear();
    expect(c.set('k', answer('u-1'), before)).toBe(false);
    expect(c.get('k')).toBeUndefined();
    expect(c.set('k', answer('u-1'), c.generation)).toBe(true);
  });

  it('of one subject take at most an eighth of the memory, and what is pushed out is given back', () => {
    const c = cache(); // 1 MiB: 128 KiB per subject
    const body = 'x'.repeat(10_000); // 20,512 bytes counted
    const kept = Array.from({ length: 10 }, (_, i) => c.set(`a${i}`, answer('flooder', body), c.generation));
    expect(kept).toEqual([true, true, true, true, true, true, false, false, false, false]);
    expect(c.set('b0', answer('someone-else', body), c.generation)).toBe(true);
    c.clear();
    expect(c.set('a-again', answer('flooder', body), c.generation)).toBe(true);
  });
});
