import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SSN_SYSTEM } from '../../sandbox/index.js';
import { mintDevToken } from '../../server/auth.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

// Hostile and broken input, each answered with its documented error and nothing more:
//   bad token                      -> HTTP 401, UNAUTHENTICATED, one fixed message
//   too deep / too many aliases    -> HTTP 400, GRAPHQL_VALIDATION_FAILED (extensions.limit)
//   too many tokens                -> HTTP 400, GRAPHQL_PARSE_FAILED
//   body over 1 MiB                -> HTTP 413
//   JSON array of operations       -> HTTP 400, BAD_REQUEST (batching off)
//   malformed id                   -> BAD_USER_INPUT, the value not echoed
//   FHIR special characters        -> escaped upstream; they never widen a search
// and what an outside review broke (issue 13), each refused before any upstream call:
//   name folding to nothing        -> BAD_USER_INPUT (no index dump)
//   SSN lookup by a role without SSNs -> FORBIDDEN, audited as denied
//   over-long strings              -> BAD_USER_INPUT (limits.maxStringLength); upstream 4xx never marks a source DOWN
//   1,100 copies of a field        -> HTTP 400, GRAPHQL_VALIDATION_FAILED, limit "fields", before validation
//   subscription, wrong APQ hash, Fastify's 400/413/415 -> coded errors, not INTERNAL_SERVER_ERROR
//   impossible calendar dates      -> BAD_USER_INPUT, the date not echoed
//   bad `first` / cursors          -> BAD_USER_INPUT before the fetch
//   401s and refused documents     -> audited; long-lived and control-character tokens handled

const SECRET = 'b'.repeat(48);
const UNAUTHENTICATED = { errors: [{ message: 'Authentication required: send a valid bearer token', extensions: { code: 'UNAUTHENTICATED' } }] };

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway({
    sandbox: { maxPatients: 8 },
    payers: true,
    config: (sources) => ({
      server: { port: 0, logLevel: 'silent' },
      cache: { url: 'pglite:memory:', defaultTtlSeconds: 0 },
      auth: { mode: 'dev', secret: SECRET },
      limits: { maxDepth: 6 },
      sources,
    }),
  });
});
afterAll(async () => t?.close());

async function send(body: unknown, token?: string | null, headers: Record<string, string> = {}) {
  const auth: Record<string, string> = token === null ? {} : { authorization: `Bearer ${token ?? (await t.token('clinician'))}` };
  const res = await fetch(`${t.gateway.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...auth, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, text, json: (() => { try { return JSON.parse(text); } catch { return undefined; } })() };
}

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const key = new TextEncoder().encode(SECRET);
const now = () => Math.floor(Date.now() / 1000);
const sign = (claims: Record<string, unknown>, opts: { iss?: string; aud?: string; exp?: number } = {}) =>
  new SignJWT({ role: 'admin', scope: 'user/*.rs', ...claims })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject('mallory')
    .setIssuer(opts.iss ?? 'chartgraph-dev')
    .setAudience(opts.aud ?? 'chartgraph')
    .setExpirationTime(opts.exp ?? now() + 300)
    .sign(key);

describe('bad tokens', () => {
  it('all get 401 UNAUTHENTICATED with one message, and no data', async () => {
    const valid = await sign({});
    const [h, p, s] = (await mintDevToken(t.config.auth, { role: 'billing', sub: 'bill' })).split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString());
    const cases: Record<string, string> = {
      malformed: 'not.a.jwt!',
      garbage: `${'x'.repeat(40)}.${'y'.repeat(40)}.${'z'.repeat(40)}`,
      expired: await sign({}, { exp: now() - 3600 }),
      'wrong audience': await sign({}, { aud: 'another-api' }),
      'wrong issuer': await sign({}, { iss: 'https://evil.example' }),
      'alg none': `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'mallory', role: 'admin', iss: 'chartgraph-dev', aud: 'chartgraph', exp: now() + 300 })}.`,
      'replayed with another role': `${h}.${b64({ ...claims, role: 'admin' })}.${s}`,
      'replayed with more scopes': `${h}.${b64({ ...claims, scope: 'system/*.rs' })}.${s}`,
      'wrong key': await new SignJWT({ role: 'admin' }).setProtectedHeader({ alg: 'HS256' }).setSubject('m').setIssuer('chartgraph-dev').setAudience('chartgraph').setExpirationTime('5m').sign(new TextEncoder().encode('c'.repeat(48))),
    };
    expect((await send({ query: '{ sources { id } }' }, valid)).status).toBe(200);
    for (const [name, token] of Object.entries(cases)) {
      const res = await send({ query: '{ sources { id } }' }, token);
      expect([name, res.status, res.json]).toEqual([name, 401, UNAUTHENTICATED]);
    }
    const none = await send({ query: '{ sources { id } }' }, null);
    expect([none.status, none.json]).toEqual([401, UNAUTHENTICATED]);
  });
});

describe('bad documents', () => {
  it('refuse deep queries, alias bombs, oversized documents and batches before any upstream call', async () => {
    t.resetCounts();
    const deep = await send({ query: `query($id: ID!) { patient(id: $id) { observations { nodes { components { code { coding { code } } } } } } }`, variables: { id: randomUUID() } });
    expect(deep.status).toBe(400);
    expect(deep.json.errors[0]).toMatchObject({ message: 'Query depth limit of 6 exceeded, found 7.', extensions: { code: 'GRAPHQL_VALIDATION_FAILED', limit: 'depth', max: 6, actual: 7 } });

    const bomb = await send({ query: `query($id: ID!) { ${Array.from({ length: 2000 }, (_, i) => `p${i}: patient(id: $id) { id }`).join(' ')} }`, variables: { id: randomUUID() } });
    expect(bomb.status).toBe(400);
    expect(bomb.json.errors.map((e: any) => [e.extensions.code, e.extensions.limit])).toEqual([['GRAPHQL_PARSE_FAILED', undefined]]);
    const aliases = await send({ query: `query($id: ID!) { ${Array.from({ length: 200 }, (_, i) => `p${i}: patient(id: $id) { id }`).join(' ')} }`, variables: { id: randomUUID() } });
    expect(aliases.status).toBe(400);
    expect(aliases.json.errors.map((e: any) => [e.extensions.code, e.extensions.limit])).toEqual([['GRAPHQL_VALIDATION_FAILED', 'aliases']]);

    const huge = await send({ query: `{ sources { id } } # ${'x'.repeat(1_100_000)}` });
    expect(huge.status).toBe(413);

    const batch = await send([{ query: '{ sources { id } }' }, { query: '{ sources { name } }' }]);
    expect([batch.status, batch.json]).toEqual([400, { errors: [{ message: 'Operation batching disabled.', extensions: { code: 'BAD_REQUEST' } }] }]);

    const notJson = await send('{"query": "{ sources { id } }"');
    expect(notJson.status).toBe(400);
    expect(t.calls).toEqual([]);
  });
});

describe('bad ids', () => {
  it('answer BAD_USER_INPUT without echoing the value', async () => {
    const cases = [
      { query: `query($id: ID!) { patient(id: $id) { id } }`, variables: { id: "1' OR '1'='1" } },
      { query: `query($id: ID!) { patient(id: $id) { id } }`, variables: { id: '../../Patient/123' } },
      { query: `{ patient(id: 42) { id } }`, variables: {} },
      { query: `query($ids: [ID!]!) { patients(ids: $ids) { id } }`, variables: { ids: [randomUUID(), 'mercy/Patient/1,2'] } },
      { query: `{ auditEvents(patientId: "x") { totalCount } }`, variables: {}, role: 'admin' as const },
    ];
    for (const c of cases.slice(0, 4)) {
      const res = await send(c);
      expect(res.json.errors.map((e: any) => e.extensions.code)).toEqual(['BAD_USER_INPUT']);
      for (const v of [...Object.values(c.variables).flat(), '42']) expect(res.json.errors[0].message).not.toContain(String(v));
    }
    // An admin filter by an unknown id finds nothing; it is no error.
    const audit = await send(cases[4], await t.token('admin'));
    expect(audit.json.data.auditEvents.totalCount).toBe(0);
  });
});

describe('FHIR special characters in identifier values', () => {
  it('are escaped so that no value can widen the upstream search', async () => {
    const withSsn = t.sandbox.truth.patients.filter((p) => p.ssn && p.ehrs.mercy?.hasSsn);
    const [a, b] = withSsn;
    expect(b, 'two fixture patients with SSNs').toBeDefined();
    const values: [string, string][] = [
      [`${a!.ssn},${b!.ssn}`, `${a!.ssn}\\,${b!.ssn}`],
      [`${a!.ssn}&identifier=${SSN_SYSTEM}|${b!.ssn}`, `${a!.ssn}&identifier=http://hl7.org/fhir/sid/us-ssn\\|${b!.ssn}`],
      [`x|${a!.ssn}`, `x\\|${a!.ssn}`],
      [`${a!.ssn}\\`, `${a!.ssn}\\\\`],
      [`${a!.ssn}$${b!.ssn}`, `${a!.ssn}\\$${b!.ssn}`],
    ];
    for (const [value, escaped] of values) {
      t.resetCounts();
      const res = await send({ query: `query($v: String!) { patientByIdentifier(system: "${SSN_SYSTEM}", value: $v) { id } }`, variables: { v: value } }, await t.token('billing'));
      expect(res.json).toEqual({ data: { patientByIdentifier: null } });
      for (const ehr of t.sandbox.ehrs) {
        const searches = ehr.requests.entries.filter((r) => r.resourceType === 'Patient');
        expect(searches).toHaveLength(1);
        expect(searches[0]!.params.filter(([k]) => !k.startsWith('_'))).toEqual([['identifier', `${SSN_SYSTEM}|${escaped}`]]);
        expect(searches[0]!.status).toBe(200);
      }
    }
    // The same values in a name search are escaped too.
    t.resetCounts();
    const names = await send({ query: `{ searchPatients(name: "zq,xv|c\\\\d$e") { totalCount } }` });
    expect(names.json.errors).toBeUndefined();
    for (const ehr of t.sandbox.ehrs) {
      const named = ehr.requests.entries.filter((r) => r.resourceType === 'Patient' && r.params.some(([k]) => k === 'name'));
      expect(named).toHaveLength(1);
      for (const r of named) expect(r.params.find(([k]) => k === 'name')![1]).toBe('zq\\,xv\\|c\\\\d\\$e');
    }
  });
});

// ---- issue 13: what an outside review broke ----

const mercyMrnSystem = () => t.sandbox.sourcesConfig().find((s) => s.id === 'mercy')!.mrnSystem;
const codes = (res: { json: any }) => (res.json.errors ?? []).map((e: any) => e.extensions?.code);
async function knownPatientId(): Promise<string> {
  const p = t.sandbox.truth.patients.find((x) => x.ehrs.mercy)!;
  const res = await send({ query: `query($v: String!) { patientByIdentifier(system: "${mercyMrnSystem()}", value: $v) { id } }`, variables: { v: p.ehrs.mercy!.mrn } }, await t.token('billing'));
  return res.json.data.patientByIdentifier.id;
}
async function auditRows(where: Record<string, unknown>) {
  await t.gateway.services.auditWriter.flush();
  return t.gateway.services.database.prisma.auditEvent.findMany({ where, orderBy: { at: 'asc' } });
}

describe('a name that folds to nothing', () => {
  it('is BAD_USER_INPUT, checked on the folded form, so no search dumps the index', async () => {
    await knownPatientId(); // the index knows patients now: a match-all search would list them
    t.resetCounts();
    for (const name of ['%', '.', '-', "'", '\u200b', '  ', 'a', 'A.', '%%%', 'x-y']) {
      const res = await send({ query: `query($n: String) { searchPatients(name: $n, first: 1000) { totalCount nodes { id } } }`, variables: { n: name } }, await t.token('billing'));
      expect([name, codes(res), res.json.data]).toEqual([name, ['BAD_USER_INPUT'], null]);
    }
    expect(t.calls).toEqual([]);
    // A real name part still searches.
    const ok = await send({ query: `{ searchPatients(name: "Zz") { totalCount } }` }, await t.token('billing'));
    expect(ok.json.errors).toBeUndefined();
  });
});

describe('a lookup by an identifier system the role may not see', () => {
  it('is FORBIDDEN for clinicians and care coordinators, whatever the spelling of the SSN system, before any search, and audited as denied', async () => {
    const p = t.sandbox.truth.patients.find((x) => x.ssn && x.ehrs.mercy?.hasSsn)!;
    t.resetCounts();
    for (const role of ['clinician', 'care_coordinator'] as const) {
      for (const system of [SSN_SYSTEM, `${SSN_SYSTEM}/`, SSN_SYSTEM.toUpperCase(), 'urn:oid:2.16.840.1.113883.4.1']) {
        const res = await send({ query: `query($s: String!, $v: String!) { patientByIdentifier(system: $s, value: $v) { id name { family } } }`, variables: { s: system, v: p.ssn } }, await t.token(role));
        expect([role, system, codes(res), res.json.data]).toEqual([role, system, ['FORBIDDEN'], { patientByIdentifier: null }]);
      }
    }
    expect(t.calls).toEqual([]);
    const denied = await auditRows({ role: 'care_coordinator', outcome: 'denied' });
    expect(denied.length).toBeGreaterThanOrEqual(4);
    expect((denied.at(-1)!.detail as any).lookups).toEqual(['patientByIdentifier']);
    // By MRN they still look up; billing still looks up by SSN.
    const mrn = await send({ query: `query($v: String!) { patientByIdentifier(system: "${mercyMrnSystem()}", value: $v) { id } }`, variables: { v: p.ehrs.mercy!.mrn } }, await t.token('care_coordinator'));
    expect(mrn.json.data.patientByIdentifier.id).toMatch(/^[0-9a-f-]{36}$/);
    const billing = await send({ query: `query($v: String!) { patientByIdentifier(system: "${SSN_SYSTEM}", value: $v) { id } }`, variables: { v: p.ssn } }, await t.token('billing'));
    expect(billing.json.data.patientByIdentifier.id).toBe(mrn.json.data.patientByIdentifier.id);
  });
});

describe('over-long strings', () => {
  it('are BAD_USER_INPUT naming the argument, never sent upstream, and leave every source UP', async () => {
    const id = await knownPatientId();
    t.resetCounts();
    const k20 = 'x'.repeat(20_000);
    const k200 = 'y'.repeat(200_000);
    const cases: [string, Record<string, unknown>, string][] = [
      [`query($id: ID!, $c: String) { patient(id: $id) { conditions(code: $c) { totalCount } } }`, { id, c: k20 }, '$c'],
      [`query($id: ID!) { patient(id: $id) { observations(code: "${k20}") { totalCount } } }`, { id }, 'code'],
      [`query($v: String!) { patientByIdentifier(system: "${mercyMrnSystem()}", value: $v) { id } }`, { v: k200 }, '$v'],
      [`query($n: String) { searchPatients(name: $n) { totalCount } }`, { n: `Smith${'h'.repeat(300)}` }, '$n'],
      [`query($in: EligibilityInput!) { eligibility(input: $in) { status } }`, { in: { payerId: 'acme-payer', memberId: 'W1', lastName: 'z'.repeat(100_000) } }, '$in.lastName'],
    ];
    for (const [query, variables, where] of cases) {
      const res = await send({ query, variables }, await t.token('billing'));
      expect(res.status).toBe(400);
      expect(res.json.errors).toEqual([{ message: `\`${where}\` is longer than 256 characters`, extensions: { code: 'BAD_USER_INPUT', argument: where, limit: 'stringLength', max: 256 } }]);
    }
    expect(t.calls).toEqual([]);
    expect(t.sandbox.payer.requests.entries).toEqual([]);
    const sources = await send({ query: '{ sources { id status } }' });
    expect(sources.json.data.sources.filter((s: any) => s.status === 'DOWN')).toEqual([]);
  });

  it('an upstream 4xx the request caused never marks a source DOWN nor opens its breaker', async () => {
    const id = await knownPatientId();
    const mercy = t.sandbox.ehr('mercy');
    const before = await send({ query: '{ sources { id status breaker } }' });
    expect(before.json.data.sources.find((s: any) => s.id === 'mercy')).toMatchObject({ status: 'UP', breaker: 'CLOSED' });
    for (const status of [400, 404, 413, 414, 422, 431]) {
      await mercy.setFaults({ status, resourceTypes: ['Condition'] });
      // More refusals in a row than the breaker's failure count (5).
      for (let i = 0; i < 6; i++) {
        const res = await send({ query: `query($id: ID!, $c: String) { patient(id: $id) { conditions(code: $c) { totalCount } } }`, variables: { id, c: `http://snomed.info/sct|${status}${i}` } });
        expect(res.json.errors?.map((e: any) => e.extensions.source)).toEqual(['mercy']);
      }
      const after = await send({ query: '{ sources { id status breaker } }' });
      expect([status, after.json.data.sources.find((s: any) => s.id === 'mercy')]).toEqual([status, { id: 'mercy', status: 'UP', breaker: 'CLOSED' }]);
    }
    await mercy.clearFaults();
  });
});

describe('1,100 copies of one field', () => {
  it('are refused on the document text before validation, with the limit; a large allowed query still runs', async () => {
    t.resetCounts();
    const res = await send({ query: `{ sources { ${'id '.repeat(1100)} } }` });
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ errors: [{ message: 'Document selects 1101 fields, at most 500 allowed', extensions: { code: 'GRAPHQL_VALIDATION_FAILED', limit: 'fields', max: 500, actual: 1101 } }] });
    // The same document by GET is refused the same way (its text is in the query string).
    const get = await fetch(`${t.gateway.url}/graphql?query=${encodeURIComponent(`{ sources { ${'id '.repeat(600)} } }`)}`, {
      headers: { authorization: `Bearer ${await t.token('clinician')}`, 'apollo-require-preflight': '1' },
    });
    expect(get.status).toBe(400);
    expect(await get.json()).toEqual({ errors: [{ message: 'Document selects 601 fields, at most 500 allowed', extensions: { code: 'GRAPHQL_VALIDATION_FAILED', limit: 'fields', max: 500, actual: 601 } }] });
    // Aliases, fragments and directives are not fields of their own.
    const fine = await send({ query: `{ ...F a: sources @include(if: true) { id } } fragment F on Query { sources { ... on Source { id name } } }` });
    expect(fine.json.errors).toBeUndefined();
    expect(t.calls).toEqual([]);
    // Refused documents are audited, without the document.
    const rows = await auditRows({ requestId: { not: '' }, action: 'request' });
    expect(rows.some((r) => (r.detail as any).limit === 'fields' && r.outcome === 'denied' && r.subject === 'dev-clinician')).toBe(true);
    expect(JSON.stringify(rows)).not.toContain('id id id');
  });
});

describe('documents refused in validation', () => {
  it('are audited: denied when a limit refused them, error otherwise, without the document', async () => {
    const id = randomUUID();
    await send({ query: `query($id: ID!) { patient(id: $id) { observations { nodes { components { code { coding { code } } } } } } }`, variables: { id } }, undefined, { 'x-request-id': 'audit-depth-0001' });
    await send({ query: '{ sources { id ' }, undefined, { 'x-request-id': 'audit-syntax-0001' });
    const [depth] = await auditRows({ requestId: 'audit-depth-0001' });
    expect(depth).toMatchObject({ subject: 'dev-clinician', role: 'clinician', action: 'request', outcome: 'denied', patientIds: [], fieldGroups: [] });
    expect(depth!.detail).toEqual({ errorCodes: ['GRAPHQL_VALIDATION_FAILED'], limits: ['depth'] });
    const [syntax] = await auditRows({ requestId: 'audit-syntax-0001' });
    expect(syntax).toMatchObject({ action: 'request', outcome: 'error' });
    expect(syntax!.detail).toEqual({ errorCodes: ['GRAPHQL_PARSE_FAILED'] });
    expect(JSON.stringify([depth, syntax])).not.toContain(id);
  });
});

describe('requests refused before they run', () => {
  it('carry a code: subscriptions, a persisted query with a wrong hash, Fastify’s own 400, 413 and 415', async () => {
    // A real subscription field: the schema serves subscriptions, over SSE and WebSocket only.
    const sub = await send({ query: 'subscription { patientEvents { id } }' });
    expect([sub.status, codes(sub)]).toEqual([400, ['GRAPHQL_VALIDATION_FAILED']]);
    expect(sub.json.errors[0].message).toBe('Subscriptions are not served over HTTP POST');

    const apq = await send({ query: '{ sources { id } }', extensions: { persistedQuery: { version: 1, sha256Hash: 'a'.repeat(64) } } });
    expect([apq.status, apq.json]).toEqual([400, { errors: [{ message: 'provided sha does not match query', extensions: { code: 'BAD_REQUEST' } }] }]);
    const apqVersion = await send({ query: '{ sources { id } }', extensions: { persistedQuery: { version: 2, sha256Hash: 'a'.repeat(64) } } });
    expect([apqVersion.status, codes(apqVersion)]).toEqual([400, ['BAD_REQUEST']]);
    const apqMissing = await send({ extensions: { persistedQuery: { version: 1, sha256Hash: 'b'.repeat(64) } } });
    expect(codes(apqMissing)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);

    const malformed = await send('{"query": "{ sources { id } }"');
    expect([malformed.status, malformed.json]).toEqual([400, { errors: [{ message: 'Malformed request body', extensions: { code: 'BAD_REQUEST' } }] }]);
    const huge = await send({ query: `{ sources { id } } # ${'x'.repeat(1_100_000)}` });
    expect([huge.status, huge.json]).toEqual([413, { errors: [{ message: 'Request body is larger than 1048576 bytes', extensions: { code: 'BAD_REQUEST', limit: 'bodyBytes', max: 1048576 } }] }]);
    const xml = await send('<query/>', undefined, { 'content-type': 'application/xml' });
    expect([xml.status, xml.json]).toEqual([415, { errors: [{ message: 'Unsupported content type: send application/json', extensions: { code: 'BAD_REQUEST' } }] }]);
  });
});

describe('impossible calendar dates', () => {
  it('are BAD_USER_INPUT, as literals and as variables, without echoing the date and before any upstream call', async () => {
    const id = await knownPatientId();
    t.resetCounts();
    const cases: [string, Record<string, unknown>][] = [
      [`query($id: ID!) { patient(id: $id) { observations(since: "2019-02-30") { totalCount } } }`, { id }],
      [`query($id: ID!) { patient(id: $id) { encounters(since: "0000") { totalCount } } }`, { id }],
      [`query($id: ID!, $s: DateTime) { patient(id: $id) { immunizations(since: $s) { totalCount } } }`, { id, s: '2023-04-31' }],
      [`{ searchPatients(birthDate: "1988-02-30") { totalCount } }`, {}],
      [`query($b: Date) { searchPatients(birthDate: $b) { totalCount } }`, { b: '1987-02-29' }],
      [`query($b: Date) { searchPatients(birthDate: $b) { totalCount } }`, { b: '1988-13-01' }],
    ];
    for (const [query, variables] of cases) {
      const res = await send({ query, variables });
      expect([query, res.status, codes(res)]).toEqual([query, 400, ['BAD_USER_INPUT']]);
      expect(res.json.errors[0].message).toMatch(/^(Variable "\$[a-z]+": )?(Date must be a FHIR date \(YYYY, YYYY-MM or YYYY-MM-DD\)|DateTime must be a FHIR dateTime) of a real calendar day$/);
      for (const date of ['2019-02-30', '0000', '2023-04-31', '1988-02-30', '1987-02-29', '1988-13-01']) expect(res.text).not.toContain(date);
    }
    expect(t.calls).toEqual([]);
    const leap = await send({ query: `{ searchPatients(birthDate: "1988-02-29") { totalCount } }` });
    expect(leap.json.errors).toBeUndefined();
  });
});

describe('page arguments', () => {
  it('are checked before any upstream call: no `1e3`, ` 1` or `01` cursors, no page size out of range', async () => {
    const id = await knownPatientId();
    const cursor = (text: string) => Buffer.from(text).toString('base64url');
    t.resetCounts();
    const bad: Record<string, unknown>[] = [
      { after: cursor('cg:1e3') },
      { after: cursor('cg: 1') },
      { after: cursor('cg:01') },
      { after: cursor('cg:-1') },
      { after: `${cursor('cg:1')}!!` },
      { first: -1 },
      { first: 5000 },
    ];
    for (const args of bad) {
      const res = await send({ query: `query($id: ID!, $first: Int, $after: String) { patient(id: $id) { conditions(first: $first, after: $after) { totalCount } } }`, variables: { id, ...args } });
      expect([args, codes(res)]).toEqual([args, ['BAD_USER_INPUT']]);
      const search = await send({ query: `query($first: Int, $after: String) { searchPatients(name: "Zz", first: $first, after: $after) { totalCount } }`, variables: args });
      expect([args, codes(search)]).toEqual([args, ['BAD_USER_INPUT']]);
    }
    expect(t.calls.filter((c) => c.resourceType !== 'Patient' || c.interaction === 'search')).toEqual([]);
    const good = await send({ query: `query($id: ID!, $after: String) { patient(id: $id) { conditions(first: 1, after: $after) { totalCount } } }`, variables: { id, after: cursor('cg:0') } });
    expect(good.json.errors).toBeUndefined();
  });
});

describe('authentication hardening', () => {
  it('audits 401s without patient data, sends WWW-Authenticate, and takes the scheme in any case', async () => {
    const res = await fetch(`${t.gateway.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer not.a.jwt', 'x-request-id': 'audit-401-test-1' },
      body: JSON.stringify({ query: '{ sources { id } }' }),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="chartgraph"');
    const [row] = await auditRows({ requestId: 'audit-401-test-1' });
    expect(row).toMatchObject({ subject: 'anonymous', role: 'none', action: 'authenticate', outcome: 'denied', patientIds: [], fieldGroups: [] });
    expect((row!.detail as any).errorCodes).toEqual(['UNAUTHENTICATED']);

    const token = await t.token('clinician');
    for (const scheme of ['bearer', 'BEARER', 'BeArEr']) {
      const ok = await send({ query: '{ sources { id } }' }, null, { authorization: `${scheme} ${token}` });
      expect([scheme, ok.status]).toEqual([scheme, 200]);
    }
  });

  it('refuses tokens that live longer than auth.maxTokenLifetimeSec (default 1 h), with or without iat', async () => {
    const iat = now();
    const tenYears = await new SignJWT({ role: 'admin', scope: 'user/*.rs' }).setProtectedHeader({ alg: 'HS256' }).setSubject('mallory').setIssuer('chartgraph-dev').setAudience('chartgraph').setIssuedAt(iat).setExpirationTime(iat + 10 * 365 * 86400).sign(key);
    const twoHoursNoIat = await sign({}, { exp: now() + 7200 });
    const futureIat = await new SignJWT({ role: 'admin' }).setProtectedHeader({ alg: 'HS256' }).setSubject('m').setIssuer('chartgraph-dev').setAudience('chartgraph').setIssuedAt(iat + 86400 * 365).setExpirationTime(iat + 86400 * 365 + 600).sign(key);
    for (const token of [tenYears, twoHoursNoIat, futureIat]) {
      const res = await send({ query: '{ sources { id } }' }, token);
      expect([res.status, res.json]).toEqual([401, UNAUTHENTICATED]);
    }
    const hour = await new SignJWT({ role: 'admin', scope: 'user/*.rs' }).setProtectedHeader({ alg: 'HS256' }).setSubject('ok').setIssuer('chartgraph-dev').setAudience('chartgraph').setIssuedAt(iat).setExpirationTime(iat + 3600).sign(key);
    expect((await send({ query: '{ sources { id } }' }, hour)).status).toBe(200);
    await expect(mintDevToken(t.config.auth, { role: 'admin', ttlSeconds: 7200 })).rejects.toThrow('a token may live at most 3600 s (auth.maxTokenLifetimeSec)');
  });

  it('stores a token subject without control characters and at most 128 characters', async () => {
    const sub = `eve\nFAKE audit line\u202e\u0000${'s'.repeat(300)}`;
    const token = await new SignJWT({ role: 'billing', scope: 'user/*.rs' }).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setIssuer('chartgraph-dev').setAudience('chartgraph').setIssuedAt().setExpirationTime('10m').sign(key);
    const res = await send({ query: `{ searchPatients(name: "Zz") { totalCount } }` }, token, { 'x-request-id': 'subject-normalise-1' });
    expect(res.json.errors).toBeUndefined();
    const [row] = await auditRows({ requestId: 'subject-normalise-1' });
    expect(row!.subject).toBe(`eveFAKE audit line${'s'.repeat(110)}`);
    expect(row!.subject).toHaveLength(128);
  });
});
