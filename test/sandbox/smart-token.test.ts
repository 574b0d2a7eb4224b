import { randomUUID } from 'node:crypto';
import { generateKeyPair, importPKCS8, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CapabilityStatement } from '@medplum/fhirtypes';
import { OAUTH_URIS_URL, startSandbox, type Sandbox } from '../../sandbox/index.js';
import { CLIENT_ASSERTION_TYPE } from '../../sandbox/smart-token-server.js';
import { fetchJson } from './helpers.js';

let sb: Sandbox;
let mercyUrl: string;
let pid: string;

beforeAll(async () => {
  sb = await startSandbox({ maxPatients: 1 });
  mercyUrl = sb.ehr('mercy').baseUrl;
  pid = sb.truth.patients[0].ehrs.mercy!.patientId;
});
afterAll(() => sb?.close());

interface AssertionOpts {
  alg?: 'RS384' | 'ES384';
  key?: CryptoKey;
  kid?: string;
  iss?: string;
  sub?: string;
  aud?: string;
  exp?: number;
  jti?: string;
}

async function assertion(o: AssertionOpts = {}): Promise<string> {
  const alg = o.alg ?? 'RS384';
  const key = o.key ?? (await importPKCS8(alg === 'RS384' ? sb.token.privateKeyPem : sb.token.es384.privateKeyPem, alg));
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg, typ: 'JWT', ...(o.kid !== undefined ? { kid: o.kid } : {}) })
    .setIssuer(o.iss ?? sb.token.clientId)
    .setSubject(o.sub ?? sb.token.clientId)
    .setAudience(o.aud ?? sb.token.url)
    .setExpirationTime(o.exp ?? now + 240)
    .setJti(o.jti ?? randomUUID())
    .sign(key);
}

async function requestToken(form: Record<string, string>) {
  return fetchJson<{ access_token?: string; token_type?: string; expires_in?: number; scope?: string; error?: string; error_description?: string }>(sb.token.url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
}

async function tokenFor(jwt: string, scope = 'system/*.rs') {
  return requestToken({ grant_type: 'client_credentials', client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: jwt, scope });
}

const search = (token?: string) =>
  fetchJson(`${mercyUrl}/Observation?patient=${pid}&_count=1`, token ? { headers: { authorization: `Bearer ${token}` } } : undefined);

describe('SMART Backend Services token endpoint', () => {
  it('issues a bearer token for a valid RS384 assertion, which Mercy accepts', async () => {
    const a = await tokenFor(await assertion());
    expect(a.status).toBe(200);
    expect(a.headers.get('cache-control')).toBe('no-store');
    expect(a.body).toEqual({ access_token: expect.any(String), token_type: 'bearer', expires_in: 300, scope: 'system/*.rs' });
    expect((await search(a.body.access_token)).status).toBe(200);
  });

  it('accepts ES384 assertions too, with or without kid', async () => {
    const a = await tokenFor(await assertion({ alg: 'ES384' }));
    expect(a.status).toBe(200);
    const b = await tokenFor(await assertion({ alg: 'ES384', kid: sb.token.es384.kid }));
    expect(b.status).toBe(200);
    expect((await search(b.body.access_token)).status).toBe(200);
  });

  it('refuses Mercy requests without a live token (401), St. Jude is open', async () => {
    const none = await search();
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((none.body as { issue: Array<{ code: string }> }).issue[0].code).toBe('login');
    expect((await search('not-a-token')).status).toBe(401);
    const sjPid = sb.truth.patients[0].ehrs.stjude?.patientId ?? 'x';
    expect((await fetchJson(`${sb.ehr('stjude').baseUrl}/Observation?patient=${sjPid}`)).status).toBe(200);
    // The CapabilityStatement is public and names the token endpoint.
    const cs = await fetchJson<CapabilityStatement>(`${mercyUrl}/metadata`);
    expect(cs.status).toBe(200);
    const oauth = cs.body.rest![0].security!.extension!.find((e) => e.url === OAUTH_URIS_URL)!;
    expect(oauth.extension!.find((e) => e.url === 'token')!.valueUri).toBe(sb.token.url);
    const smart = await fetchJson<{ token_endpoint: string }>(`${mercyUrl}/.well-known/smart-configuration`);
    expect(smart.body.token_endpoint).toBe(sb.token.url);
  });

  it('rejects tokens after revocation and scopes that do not cover the type', async () => {
    const a = await tokenFor(await assertion(), 'system/Patient.rs');
    expect(a.status).toBe(200);
    expect((await search(a.body.access_token)).status).toBe(403);
    expect((await fetchJson(`${mercyUrl}/Patient/${pid}`, { headers: { authorization: `Bearer ${a.body.access_token}` } })).status).toBe(200);
    sb.token.server.revokeAll();
    expect((await search(a.body.access_token)).status).toBe(401);
  });

  it('rejects a bad signature, an unknown key, expiry, a far exp, a reused jti and a wrong audience as invalid_client (401)', async () => {
    const other = await generateKeyPair('RS384');
    const now = Math.floor(Date.now() / 1000);
    const jti = randomUUID();
    expect((await tokenFor(await assertion({ jti }))).status).toBe(200);
    const cases: Array<[string, string]> = [
      ['foreign key', await assertion({ key: other.privateKey })],
      ['foreign key with our kid', await assertion({ key: other.privateKey, kid: sb.token.keyId })],
      ['expired', await assertion({ exp: now - 60 })],
      ['exp too far', await assertion({ exp: now + 3600 })],
      ['reused jti', await assertion({ jti })],
      ['wrong aud', await assertion({ aud: 'http://elsewhere.example/token' })],
      ['sub differs', await assertion({ sub: 'someone-else' })],
      ['unknown client', await assertion({ iss: 'stranger', sub: 'stranger' })],
      ['not a JWT', 'abc.def'],
    ];
    for (const [what, jwt] of cases) {
      const r = await tokenFor(jwt);
      expect([what, r.status, r.body.error]).toEqual([what, 401, 'invalid_client']);
    }
    // A signature tampered with after signing.
    const good = await assertion();
    const tampered = good.slice(0, -4) + (good.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    expect((await tokenFor(tampered)).body.error).toBe('invalid_client');
  });

  it('answers request errors with 400 and an OAuth2 error code', async () => {
    const jwt = await assertion();
    const wrongGrant = await requestToken({ grant_type: 'password', client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: jwt, scope: 'system/*.rs' });
    expect([wrongGrant.status, wrongGrant.body.error]).toEqual([400, 'unsupported_grant_type']);
    const noType = await requestToken({ grant_type: 'client_credentials', client_assertion: jwt, scope: 'system/*.rs' });
    expect([noType.status, noType.body.error]).toEqual([400, 'invalid_request']);
    const badScope = await tokenFor(await assertion(), 'patient/*.read openid');
    expect([badScope.status, badScope.body.error]).toEqual([400, 'invalid_scope']);
    const json = await fetchJson<{ error: string }>(sb.token.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect([json.status, json.body.error]).toEqual([400, 'invalid_request']);
  });

  it('counts token requests without recording the assertion', async () => {
    sb.token.requests.reset();
    await tokenFor(await assertion());
    await tokenFor('abc.def');
    expect(sb.token.requests.count()).toBe(2);
    expect(sb.token.requests.count({ status: 200 })).toBe(1);
    expect(sb.token.requests.entries[0].params.find(([k]) => k === 'client_assertion')![1]).toBe('<redacted>');
  });

  it('expires access tokens after expires_in', async () => {
    sb.token.server.expiresIn = 1;
    try {
      const a = await tokenFor(await assertion());
      expect(a.body.expires_in).toBe(1);
      expect((await search(a.body.access_token)).status).toBe(200);
      await new Promise((r) => setTimeout(r, 1100));
      expect((await search(a.body.access_token)).status).toBe(401);
    } finally {
      sb.token.server.expiresIn = 300;
    }
  });
});

describe('sourcesConfig', () => {
  it('describes both EHRs as config sources', () => {
    const [mercy, stjude] = sb.sourcesConfig();
    expect(mercy).toEqual({
      id: 'mercy',
      kind: 'fhir',
      name: 'Mercy Hospital',
      baseUrl: mercyUrl,
      auth: { type: 'smart-backend', tokenUrl: sb.token.url, clientId: 'chartgraph', privateKey: sb.token.privateKeyPem, alg: 'RS384', keyId: sb.token.keyId },
      mrnSystem: 'http://mercy.example/fhir/mrn',
    });
    expect(mercy.auth.type === 'smart-backend' && mercy.auth.privateKey).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(stjude).toEqual({ id: 'stjude', kind: 'fhir', name: 'St. Jude Medical Center', baseUrl: sb.ehr('stjude').baseUrl, auth: { type: 'none' }, mrnSystem: 'http://stjude.example/fhir/mrn' });
  });
});
