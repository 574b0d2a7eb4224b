import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { exportJWK, exportPKCS8, generateKeyPair } from 'jose';
import { fhirSourceSchema } from '../../config/config.schema.js';
import { UpstreamError } from '../../errors/errors.js';
import { FhirClient } from '../../datasources/fhir/fhir-client.js';
import type { UpstreamCall } from '../../datasources/fhir/fhir-types.js';
import { makeChart, startFhirTestServer, type FhirTestServer } from '../helpers/fhir-test-server.js';

type Alg = 'RS384' | 'ES384';
const keys: Record<Alg, { pem: string; jwk: string; publicKey: CryptoKey }> = {} as never;
const servers: Partial<Record<Alg, FhirTestServer>> = {};

beforeAll(async () => {
  for (const alg of ['RS384', 'ES384'] as const) {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    keys[alg] = { pem: await exportPKCS8(privateKey), jwk: JSON.stringify(await exportJWK(privateKey)), publicKey };
    servers[alg] = await startFhirTestServer({
      resources: makeChart(['p1', 'p2'], { Condition: 3 }),
      auth: { clientId: 'chartgraph', publicKey, alg },
    });
  }
});
afterAll(async () => {
  await Promise.all(Object.values(servers).map((s) => s.close()));
});
afterEach(() => {
  for (const s of Object.values(servers)) {
    s.fault = undefined;
    s.resetLog();
  }
});

function smartClient(alg: Alg, opts: { keyForm?: 'pem' | 'jwk'; keyId?: string; now?: () => number; privateKey?: string } = {}) {
  const server = servers[alg] as FhirTestServer;
  const calls: UpstreamCall[] = [];
  const source = fhirSourceSchema.parse({
    id: 'mercy',
    kind: 'fhir',
    name: 'Mercy',
    baseUrl: server.baseUrl,
    auth: {
      type: 'smart-backend',
      tokenUrl: server.tokenUrl,
      clientId: 'chartgraph',
      privateKey: opts.privateKey ?? keys[alg][opts.keyForm ?? 'pem'],
      alg,
      ...(opts.keyId !== undefined && { keyId: opts.keyId }),
    },
  });
  const client = new FhirClient(source, { onCall: (c) => calls.push(c), ...(opts.now && { now: opts.now }) });
  return { client, server, calls };
}

describe.each(['RS384', 'ES384'] as const)('SMART Backend Services with %s', (alg) => {
  it('fetches one token for many searches, concurrent ones included', async () => {
    const { client, server, calls } = smartClient(alg, { keyForm: alg === 'ES384' ? 'jwk' : 'pem', keyId: 'key-1' });
    server.fault = (r) => (r.kind === 'token' ? { latencyMs: 50 } : undefined);
    const first = await Promise.all(Array.from({ length: 5 }, (_, i) => client.search('Condition', [['patient', i % 2 ? 'p1' : 'p2']])));
    for (let i = 0; i < 5; i++) await client.search('Condition', [['patient', 'p1']]);
    expect(first.every((r) => r.length === 3)).toBe(true);
    expect(server.requestsOf('token')).toHaveLength(1);
    // The five concurrent searches are two distinct ones (single flight), then five in turn.
    expect(server.requestsOf('search')).toHaveLength(2 + 5);
    expect(server.requestsOf('search').every((r) => /^Bearer [0-9a-f-]{36}$/.test(r.authorization ?? ''))).toBe(true);
    expect(new Set(server.requestsOf('search').map((r) => r.authorization)).size).toBe(1);
    expect(server.assertionHeaders).toEqual([{ alg, typ: 'JWT', kid: 'key-1' }]);
    // /metadata is public: no token on it.
    expect(server.requestsOf('metadata')[0].authorization).toBeUndefined();
    expect(calls.filter((c) => c.interaction === 'token')).toEqual([
      expect.objectContaining({ sourceId: 'mercy', interaction: 'token', outcome: 'ok', status: 200 }),
    ]);
  });
});

describe('token lifetime', () => {
  it('uses a token until 60 s before expires_in, then fetches a new one', async () => {
    let now = 5_000_000;
    const { client, server } = smartClient('RS384', { now: () => now });
    await client.search('Condition', [['patient', 'p1']]);
    now += 239_000;
    await client.search('Condition', [['patient', 'p1']]);
    expect(server.requestsOf('token')).toHaveLength(1);
    now += 2_000;
    await client.search('Condition', [['patient', 'p1']]);
    expect(server.requestsOf('token')).toHaveLength(2);
    const auths = server.requestsOf('search').map((r) => r.authorization);
    expect(auths[0]).toBe(auths[1]);
    expect(auths[2]).not.toBe(auths[1]);
  });

  it('drops a token the FHIR server refuses and retries once with a new one', async () => {
    const { client, server } = smartClient('RS384');
    await client.search('Condition', [['patient', 'p1']]);
    server.revokeTokens();
    expect(await client.search('Condition', [['patient', 'p2']])).toHaveLength(3);
    expect(server.requestsOf('token')).toHaveLength(2);
    expect(server.requestsOf('search').map((r) => r.status)).toEqual([200, 401, 200]);
  });

  it('gives up after one retry when the server keeps saying 401', async () => {
    const { client, server } = smartClient('RS384');
    server.fault = (r) => (r.kind === 'search' ? { status: 401, body: { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'login' }] } } : undefined);
    const err = (await client.search('Condition', []).catch((e: unknown) => e)) as UpstreamError;
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(err.extensions.status).toBe(401);
    expect(server.requestsOf('search')).toHaveLength(2);
    expect(server.requestsOf('token')).toHaveLength(2);
  });

  it('keeps the shared token request going when the first caller gives up', async () => {
    const { client, server } = smartClient('ES384', { keyForm: 'jwk' });
    await client.getCapabilities();
    server.fault = (r) => (r.kind === 'token' ? { latencyMs: 150 } : undefined);
    const impatient = new AbortController();
    const first = client.search('Condition', [['patient', 'p1']], { signal: impatient.signal }).catch((e: unknown) => e);
    const second = client.search('Condition', [['patient', 'p2']]);
    setTimeout(() => impatient.abort(), 30);
    expect(((await first) as UpstreamError).code).toBe('UPSTREAM_TIMEOUT');
    expect(await second).toHaveLength(3);
    expect(server.requestsOf('token')).toHaveLength(1);
    // The impatient caller's search goes with it (nobody else waits on it); the other's runs.
    expect(server.requestsOf('search').map((r) => r.query.get('patient'))).toEqual(['p2']);
  });
});

describe('token failures', () => {
  it('turns a refused assertion into UPSTREAM_UNAVAILABLE without secrets, and tries again next time', async () => {
    // A well-formed assertion signed with a key the server never registered.
    const wrong = await generateKeyPair('RS384', { extractable: true });
    const wrongPem = await exportPKCS8(wrong.privateKey);
    const { client, server, calls } = smartClient('RS384', { privateKey: wrongPem });
    const err = (await client.search('Condition', []).catch((e: unknown) => e)) as UpstreamError;
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(err.extensions).toMatchObject({ source: 'mercy', status: 401 });
    expect(err.reason).toBe('token endpoint refused: invalid_client');
    const everything = JSON.stringify({ m: err.message, e: err.extensions, r: err.reason });
    expect(everything).not.toContain('PRIVATE KEY');
    expect(everything).not.toContain('assertion rejected');
    expect(server.requestsOf('search')).toHaveLength(0);
    expect(calls.find((c) => c.interaction === 'token')).toMatchObject({ outcome: 'error', status: 401 });

    await client.search('Condition', []).catch(() => undefined);
    expect(server.requestsOf('token')).toHaveLength(2);
  });

  it('reports an unreadable key without quoting it', async () => {
    const { client, server } = smartClient('ES384', { privateKey: '-----BEGIN PRIVATE KEY-----\nnot-a-key\n-----END PRIVATE KEY-----' });
    const err = (await client.search('Condition', []).catch((e: unknown) => e)) as UpstreamError;
    expect(err.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(err.reason).toBe('private key for ES384 could not be read');
    expect(JSON.stringify(err.extensions) + err.message).not.toContain('not-a-key');
    expect(server.requestsOf('token')).toHaveLength(0);
  });

  it('accepts a PEM whose newlines arrive as literal \\n (environment variables)', async () => {
    const { client, server } = smartClient('RS384', { privateKey: keys.RS384.pem.replace(/\n/g, '\\n') });
    expect(await client.search('Condition', [['patient', 'p1']])).toHaveLength(3);
    expect(server.requestsOf('token')).toHaveLength(1);
  });
});
