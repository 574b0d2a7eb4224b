import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startTestIssuer, type TestIssuer } from '../helpers/oidc-issuer.js';

// Limits and hardening over real HTTP: operation shape limits with their defaults, the
// per-request patient cap, production defaults, error masking, CSRF prevention, body size,
// batching.

const LISTS = `
  conditions(first: 20) { totalCount nodes { id code { coding { system code } } onset } }
  labs: observations(category: "laboratory", first: 20) { nodes { code { coding { code } } valueQuantity { value unit } effective } }
  vitals: observations(category: "vital-signs", first: 20) { nodes { code { coding { code } } valueQuantity { value unit } effective } }
  medicationRequests(first: 20) { nodes { medication { coding { code } } status } }
  encounters(first: 20) { nodes { class period { start } } }
`;
const DASHBOARD = `query Dashboard($ids: [ID!]!) { patients(ids: $ids) { id name { text } birthDate gender ${LISTS} } }`;

async function post(t: TestGateway, body: unknown, headers: Record<string, string> = {}, role = 'clinician' as const) {
  const res = await fetch(`${t.gateway.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${await t.token(role)}`, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, body: json, headers: res.headers };
}

describe('with the default limits', () => {
  let t: TestGateway;
  const logs: string[] = [];
  beforeAll(async () => {
    t = await startTestGateway({
      sandbox: { maxPatients: 6 },
      logger: pino({ level: 'info' }, { write: (line: string) => void logs.push(line) }),
    });
  });
  afterAll(async () => t?.close());

  it('answer a 50-patient dashboard with 5 lists', async () => {
    const ids = Array.from({ length: 50 }, () => randomUUID());
    const res = await post(t, { query: DASHBOARD, variables: { ids } });
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.patients).toHaveLength(50);
  });

  it('refuse an alias bomb, an over-expensive query and too many patients across aliases, before running them', async () => {
    const bomb = `{ ${Array.from({ length: 200 }, (_, i) => `a${i}: sources { id }`).join(' ')} }`;
    const r1 = await post(t, { query: bomb });
    expect(r1.status).toBe(400);
    expect(r1.body.errors).toEqual([expect.objectContaining({ message: 'Aliases limit of 30 exceeded, found 200.', extensions: { code: 'GRAPHQL_VALIDATION_FAILED', limit: 'aliases', max: 30, actual: 200 } })]);

    t.resetCounts();
    const ids = Array.from({ length: 1000 }, () => randomUUID());
    const all = ['conditions', 'observations', 'medicationRequests', 'allergies', 'immunizations', 'procedures', 'encounters', 'diagnosticReports']
      .map((l) => `${l}(first: 1000) { nodes { id provenance { source { id } } } }`)
      .join(' ');
    const r2 = await post(t, { query: `query($ids: [ID!]!) { patients(ids: $ids) { id ${all} } }`, variables: { ids } });
    expect(r2.status).toBe(400);
    expect(r2.body.errors[0].extensions).toMatchObject({ code: 'GRAPHQL_VALIDATION_FAILED', limit: 'cost', max: 1_000_000 });
    expect(r2.body.errors[0].extensions.actual).toBeGreaterThan(1_000_000);

    const r3 = await post(t, { query: `query($a: [ID!]!, $b: [ID!]!) { a: patients(ids: $a) { id } b: patients(ids: $b) { id } }`, variables: { a: ids.slice(0, 600), b: ids.slice(400) } });
    expect(r3.status).toBe(400);
    expect(r3.body.errors).toEqual([expect.objectContaining({ message: 'at most 1000 patients per request (this one asks for 1200)', extensions: { code: 'BAD_USER_INPUT', limit: 'patients', max: 1000 } })]);
    // Cohort pages count as patients too, summed across aliases.
    const r4 = await post(t, { query: `{ a: cohort(criteria: {}, first: 600) { totalCount } b: cohort(criteria: { gender: female }, first: 600) { totalCount } }` });
    expect(r4.status).toBe(400);
    expect(r4.body.errors).toEqual([expect.objectContaining({ message: 'at most 1000 patients per request (this one asks for 1200)', extensions: { code: 'BAD_USER_INPUT', limit: 'patients', max: 1000 } })]);
    // None of them reached an EHR.
    expect(t.calls).toEqual([]);
  });

  it('refuse a document over the token limit, a body over 1 MiB, and batched operations', async () => {
    const long = `{ sources { ${'id '.repeat(12_000)} } }`;
    const r1 = await post(t, { query: long });
    expect(r1.status).toBe(400);
    expect(r1.body.errors[0]).toMatchObject({ message: 'Syntax Error: Document contains more that 10000 tokens. Parsing aborted.', extensions: { code: 'GRAPHQL_PARSE_FAILED' } });

    const r2 = await post(t, { query: '{ sources { id } }', variables: { pad: 'x'.repeat(1024 * 1024 + 10) } });
    expect(r2.status).toBe(413);
    expect(JSON.stringify(r2.body)).not.toContain('xxxx');

    const r3 = await post(t, [{ query: '{ sources { id } }' }, { query: '{ sources { id } }' }]);
    expect(r3.status).toBe(400);
    expect(r3.body).toEqual({ errors: [{ message: 'Operation batching disabled.', extensions: { code: 'BAD_REQUEST' } }] });
  });

  it('block CSRF-able requests: a GET or a text/plain POST without a preflight header', async () => {
    const token = await t.token('clinician');
    const get = await fetch(`${t.gateway.url}/graphql?query=${encodeURIComponent('{ sources { id } }')}`, { headers: { authorization: `Bearer ${token}` } });
    expect(get.status).toBe(400);
    expect(await get.text()).toContain('This operation has been blocked as a potential Cross-Site Request Forgery (CSRF)');
    const plain = await post(t, JSON.stringify({ query: '{ sources { id } }' }), { 'content-type': 'text/plain' });
    expect(plain.status).toBe(400);
    expect(plain.body.errors[0].extensions.code).toBe('BAD_REQUEST');
    expect(plain.body.errors[0].message).toContain('Cross-Site Request Forgery');
    const preflighted = await fetch(`${t.gateway.url}/graphql?query=${encodeURIComponent('{ sources { id } }')}`, {
      headers: { authorization: `Bearer ${token}`, 'apollo-require-preflight': 'true' },
    });
    expect(preflighted.status).toBe(200);
  });

  it('mask an unexpected error as INTERNAL_SERVER_ERROR with the request id; the detail goes only to the log', async () => {
    const index = t.gateway.services.index;
    const original = index.linksForUnified;
    index.linksForUnified = async () => {
      throw new Error('connection to db-7.internal:5432 refused (patient 123-45-6789)');
    };
    try {
      logs.length = 0;
      const res = await post(t, { query: `query($id: ID!) { patient(id: $id) { id } }`, variables: { id: randomUUID() } }, { 'x-request-id': 'mask-test-0001' });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        data: { patient: null },
        errors: [{ message: 'Internal server error', path: ['patient'], extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: 'mask-test-0001' } }],
      });
      const logged = logs.map((l) => JSON.parse(l)).filter((l) => l.msg === 'unexpected error in a GraphQL request');
      expect(logged).toHaveLength(1);
      // The log names the error and where it came from, never its message: messages can quote patient data.
      expect(logged[0].err.type).toBe('Error');
      expect(logged[0].err.frames.length).toBeGreaterThan(0);
      expect(JSON.stringify(logged[0])).not.toContain('123-45-6789');
      expect(logged[0].requestId).toBe('mask-test-0001');
    } finally {
      index.linksForUnified = original;
    }
  });

  it('keep introspection on outside production', async () => {
    const res = await post(t, { query: '{ __schema { queryType { name } } }' });
    expect(res.body.data.__schema.queryType.name).toBe('Query');
  });
});

describe('in production mode with tight limits', () => {
  let t: TestGateway;
  let issuer: TestIssuer;
  beforeAll(async () => {
    // Production refuses dev auth: tokens come from a (local) OpenID Provider.
    issuer = await startTestIssuer('chartgraph');
    t = await startTestGateway({
      sandbox: { maxPatients: 2 },
      issuer,
      config: (sources) => ({
        server: { port: 0, logLevel: 'silent', production: true },
        cache: { url: 'pglite:memory:', defaultTtlSeconds: 0 },
        auth: { mode: 'oidc', issuer: issuer.issuer, audience: 'chartgraph' },
        security: { deidKey: 'd'.repeat(40) },
        limits: { maxDepth: 4, maxAliases: 2, batching: true, rateLimit: { perMinute: 20 } },
        sources,
      }),
    });
  });
  afterAll(async () => {
    await t?.close();
    await issuer?.close();
  });

  it('turns introspection off by default', async () => {
    const res = await post(t, { query: '{ __schema { queryType { name } } }' });
    expect(res.status).toBe(400);
    expect(res.body.errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(res.body.errors[0].message).toContain('introspection is not allowed');
  });

  it('gives no field suggestions, since introspection is off', async () => {
    const res = await post(t, { query: '{ sourcs { id } }' });
    expect(res.status).toBe(400);
    expect(res.body.errors[0].message).toBe('Cannot query field "sourcs" on type "Query". [Suggestion hidden]?');
  });

  it('applies the configured depth and alias limits, through fragments too', async () => {
    const ok = await post(t, { query: `query($id: ID!) { patient(id: $id) { conditions { nodes { id } } } }`, variables: { id: randomUUID() } });
    expect(ok.body.errors).toBeUndefined();
    const deep = await post(t, {
      query: `query($id: ID!) { patient(id: $id) { ...P } } fragment P on Patient { conditions { nodes { code { text } } } }`,
      variables: { id: randomUUID() },
    });
    expect(deep.status).toBe(400);
    expect(deep.body.errors[0]).toMatchObject({ message: 'Query depth limit of 4 exceeded, found 5.', extensions: { code: 'GRAPHQL_VALIDATION_FAILED', limit: 'depth', max: 4, actual: 5 } });
    const aliases = await post(t, { query: `{ a: sources { id } ...F } fragment F on Query { b: sources { x: id } }` });
    expect(aliases.status).toBe(400);
    expect(aliases.body.errors[0].extensions).toMatchObject({ limit: 'aliases', actual: 3, max: 2 });
  });

  it('accepts batched operations when configured, each checked on its own', async () => {
    const res = await post(t, [{ query: '{ sources { id } }' }, { query: '{ a: sources { id } b: sources { id } c: sources { id } }' }]);
    const ok = await post(t, [{ query: '{ sources { id } }' }, { query: '{ sources { name } }' }]);
    expect(ok.status).toBe(200);
    expect(ok.body).toHaveLength(2);
    // One bad operation makes the batch's status 400; the good one still answers.
    expect(res.status).toBe(400);
    expect(res.body[0].data.sources.map((s: any) => s.id)).toEqual(['mercy', 'stjude']);
    expect(res.body[1].errors[0].extensions.limit).toBe('aliases');
  });

  it('limits each client to its requests per minute, in memory by default', async () => {
    const token = await issuer.sign({ sub: `burst-${randomUUID()}`, role: 'billing', scope: 'user/*.rs' });
    const left = 60_000 - (Date.now() % 60_000);
    if (left < 5_000) await new Promise((r) => setTimeout(r, left + 50));
    const statuses: number[] = [];
    for (let i = 0; i < 21; i++) {
      const res = await fetch(`${t.gateway.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: '{ sources { id } }' }),
      });
      statuses.push(res.status);
      await res.arrayBuffer();
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(20);
    expect(statuses.at(-1)).toBe(429);
    // Others keep their own allowance.
    expect((await post(t, { query: '{ sources { id } }' })).status).toBe(200);
  });
});
