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
  const answer = (subject: string, body = '{}', ttlMs = 10_000, patientIds: string[] = []) => ({ subject, patientIds, body, contentType: 'application/json', expiresAt: Date.now() + ttlMs });
  const body = 'x'.repeat(10_000); // 20,512 bytes counted: six fit in a subject's 128 KiB of 1 MiB

  it('are not given once expired', async () => {
    const c = cache();
    expect(c.set('k', answer('u-1', '{}', 40), c.generation)).toBe(true);
    expect(c.get('k')?.body).toBe('{}');
    await new Promise((r) => setTimeout(r, 60));
    expect(c.get('k')).toBeUndefined();
    expect(c.set('late', { ...answer('u-1'), expiresAt: Date.now() - 1 }, c.generation)).toBe(false);
  });

  it('are not kept when answers were dropped while they were made: read before a change, finished after it', () => {
    const c = cache();
    const before = c.generation;
    c.forgetPatients(['p-1']);
    expect(c.set('k', answer('u-1'), before)).toBe(false);
    expect(c.get('k')).toBeUndefined();
    expect(c.set('k', answer('u-1'), c.generation)).toBe(true);
  });

  it('of one subject take at most an eighth of the memory, and what is pushed out, expires or is dropped is given back', async () => {
    const c = cache();
    const kept = Array.from({ length: 8 }, (_, i) => c.set(`a${i}`, answer('flooder', body), c.generation));
    expect(kept).toEqual([true, true, true, true, true, true, false, false]);
    expect(c.set('b0', answer('someone-else', body), c.generation)).toBe(true);
    // Pushed out by everyone else's answers: the flooder's share comes back whole.
    for (let i = 0; i < 60; i++) c.set(`other${i}`, answer(`user-${i % 20}`, body), c.generation);
    expect(Array.from({ length: 6 }, (_, i) => c.set(`again${i}`, answer('flooder', body), c.generation))).toEqual([true, true, true, true, true, true]);
    // Expired answers stop counting.
    const d = cache();
    for (let i = 0; i < 6; i++) expect(d.set(`s${i}`, answer('short', body, 30), d.generation)).toBe(true);
    expect(d.set('s-more', answer('short', body), d.generation)).toBe(false);
    await new Promise((r) => setTimeout(r, 50));
    expect(d.set('s-more', answer('short', body), d.generation)).toBe(true);
    d.clear();
    expect(Array.from({ length: 6 }, (_, i) => d.set(`t${i}`, answer('short', body), d.generation))).toEqual([true, true, true, true, true, true]);
  });

  it('about a patient whose links changed are dropped, others kept', () => {
    const c = cache();
    c.set('one', answer('u-1', '{"a":1}', 10_000, ['p-1']), c.generation);
    c.set('both', answer('u-1', '{"a":2}', 10_000, ['p-1', 'p-2']), c.generation);
    c.set('two', answer('u-1', '{"a":3}', 10_000, ['p-2']), c.generation);
    c.forgetPatients(['p-1']);
    expect([c.get('one'), c.get('both'), c.get('two')?.body]).toEqual([undefined, undefined, '{"a":3}']);
  });
});
