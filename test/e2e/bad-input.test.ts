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

const SECRET = 'b'.repeat(48);
const UNAUTHENTICATED = { errors: [{ message: 'Authentication required: send a valid bearer token', extensions: { code: 'UNAUTHENTICATED' } }] };

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway({
    sandbox: { maxPatients: 8 },
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
    expect(deep.json.errors[0]).toMatchObject({ message: 'Operation is too deep: 7 levels, at most 6 allowed', extensions: { code: 'GRAPHQL_VALIDATION_FAILED', limit: 'depth' } });

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
      const res = await send({ query: `query($v: String!) { patientByIdentifier(system: "${SSN_SYSTEM}", value: $v) { id } }`, variables: { v: value } });
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
    const names = await send({ query: `{ searchPatients(name: "a,b|c\\\\d$e") { totalCount } }` });
    expect(names.json.errors).toBeUndefined();
    for (const ehr of t.sandbox.ehrs) {
      const named = ehr.requests.entries.filter((r) => r.resourceType === 'Patient' && r.params.some(([k]) => k === 'name'));
      expect(named).toHaveLength(1);
      for (const r of named) expect(r.params.find(([k]) => k === 'name')![1]).toBe('a\\,b\\|c\\\\d\\$e');
    }
  });
});
