import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/load-config.js';
import type { AuthConfig } from '../../config/config.schema.js';
import { createAuthenticator, type Authenticator } from '../../server/auth.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startTestIssuer, type TestIssuer } from '../helpers/oidc-issuer.js';

// Bearer tokens from a real (local) OpenID Provider: discovery, JWKS, and every check the
// gateway makes. Every refusal is the same UNAUTHENTICATED error, whatever failed.

const AUDIENCE = 'chartgraph-api';
let issuer: TestIssuer;
let auth: Authenticator;

function oidc(extra: Record<string, unknown> = {}): AuthConfig {
  return parseConfig({ auth: { mode: 'oidc', issuer: issuer.issuer, audience: AUDIENCE, ...extra }, sources: [{ id: 'x', kind: 'fhir', name: 'X', baseUrl: 'http://127.0.0.1:1/fhir' }] }).auth;
}

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

async function refusal(token: string, a: Authenticator = auth): Promise<string> {
  try {
    await a.verify(`Bearer ${token}`);
    return 'accepted';
  } catch (err: any) {
    expect(err.message).toBe('Authentication required: send a valid bearer token');
    return err.extensions.code;
  }
}

beforeAll(async () => {
  issuer = await startTestIssuer(AUDIENCE);
  auth = createAuthenticator(oidc());
});
afterAll(async () => issuer?.close());

describe('OIDC bearer tokens', () => {
  it('are verified with keys found through discovery, fetched once', async () => {
    const token = await issuer.sign({ sub: 'alice', role: 'clinician', scope: 'user/*.rs openid' });
    expect(await auth.verify(`Bearer ${token}`)).toEqual({ sub: 'alice', role: 'clinician', scopes: ['user/*.rs', 'openid'] });
    await auth.verify(`Bearer ${token}`);
    expect(issuer.requests.filter((r) => r.endsWith('openid-configuration'))).toHaveLength(1);
    expect(issuer.requests.filter((r) => r.endsWith('/certs'))).toHaveLength(1);
  });

  it('use a configured jwksUri without discovery', async () => {
    const before = issuer.requests.length;
    const direct = createAuthenticator(oidc({ jwksUri: issuer.jwksUri }));
    expect((await direct.verify(`Bearer ${await issuer.sign({ sub: 'bob', role: 'billing' })}`)).role).toBe('billing');
    expect(issuer.requests.slice(before)).toEqual(['/realms/test/certs']);
  });

  it('are refused when expired, not yet valid, or for another audience or issuer; within the clock skew they pass', async () => {
    const claims = { sub: 'alice', role: 'clinician' };
    expect(await refusal(await issuer.sign(claims, { expiresIn: -120 }))).toBe('UNAUTHENTICATED');
    expect(await refusal(await issuer.sign(claims, { expiresIn: -10 }))).toBe('accepted'); // 30 s tolerance
    expect(await refusal(await issuer.sign({ ...claims, nbf: now() + 120 }))).toBe('UNAUTHENTICATED');
    expect(await refusal(await issuer.sign({ ...claims, nbf: now() + 10 }))).toBe('accepted');
    expect(await refusal(await issuer.sign(claims, { audience: 'someone-else' }))).toBe('UNAUTHENTICATED');
    expect(await refusal(await issuer.sign(claims, { issuer: 'https://evil.example/realms/test' }))).toBe('UNAUTHENTICATED');
  });

  it('are refused with alg none, with an algorithm not configured, or signed as HS256 with the public key', async () => {
    const payload = { sub: 'alice', role: 'admin', iss: issuer.issuer, aud: AUDIENCE, exp: now() + 300 };
    expect(await refusal(`${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload)}.`)).toBe('UNAUTHENTICATED');
    expect(await refusal(`${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload)}`)).toBe('UNAUTHENTICATED');
    // ES256 is in the JWKS but the config allows RS256 only.
    const es = await issuer.sign({ sub: 'alice', role: 'admin' }, { key: issuer.keys.es256 });
    expect(await refusal(es)).toBe('UNAUTHENTICATED');
    expect(await refusal(es, createAuthenticator(oidc({ algorithms: ['RS256', 'ES256'] })))).toBe('accepted');
    // Algorithm confusion: HMAC keyed with the issuer's public key.
    const pem = await exportSPKI((await import('node:crypto')).createPublicKey({ key: issuer.keys.rs256.publicJwk as any, format: 'jwk' }) as any);
    const hs = await new SignJWT(payload).setProtectedHeader({ alg: 'HS256', kid: 'rs-1' }).sign(new TextEncoder().encode(pem));
    expect(await refusal(hs)).toBe('UNAUTHENTICATED');
  });

  it('are refused when signed by a key the issuer does not publish, or when claims were changed after signing', async () => {
    const rogue = await generateKeyPair('RS256');
    const forged = await new SignJWT({ sub: 'alice', role: 'admin' })
      .setProtectedHeader({ alg: 'RS256', kid: 'rs-1' })
      .setIssuer(issuer.issuer)
      .setAudience(AUDIENCE)
      .setExpirationTime('5m')
      .sign(rogue.privateKey);
    expect(await refusal(forged)).toBe('UNAUTHENTICATED');

    // A billing token replayed as admin: same header and signature, new payload.
    const [h, p, s] = (await issuer.sign({ sub: 'carol', role: 'billing' })).split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString());
    expect(await refusal(`${h}.${b64({ ...claims, role: 'admin' })}.${s}`)).toBe('UNAUTHENTICATED');
    expect(await refusal(`${h}.${b64({ ...claims, exp: claims.exp + 86_400 })}.${s}`)).toBe('UNAUTHENTICATED');
  });

  it('need a subject and a known role; the role may sit in a nested claim', async () => {
    expect(await refusal(await issuer.sign({ role: 'clinician' }))).toBe('UNAUTHENTICATED');
    expect(await refusal(await issuer.sign({ sub: 'x', role: 'superuser' }))).toBe('UNAUTHENTICATED');
    const keycloak = createAuthenticator(oidc({ roleClaim: 'realm_access.roles' }));
    const token = await issuer.sign({ sub: 'dora', realm_access: { roles: ['offline_access', 'analyst'] } });
    expect((await keycloak.verify(`Bearer ${token}`)).role).toBe('analyst');
  });

  it('are refused when they live longer than auth.maxTokenLifetimeSec (default 1 h): exp - iat, or exp - now without iat', async () => {
    const claims = { sub: 'alice', role: 'clinician' };
    expect(await refusal(await issuer.sign(claims, { expiresIn: 3600 }))).toBe('accepted');
    expect(await refusal(await issuer.sign(claims, { expiresIn: 3601 }))).toBe('UNAUTHENTICATED');
    expect(await refusal(await issuer.sign(claims, { expiresIn: 10 * 365 * 86400 }))).toBe('UNAUTHENTICATED');
    // Issued "long ago" to look short-lived now, or issued in the future: what is left still counts.
    expect(await refusal(await issuer.sign({ ...claims, iat: now() + 30 * 86400 }, { expiresIn: 30 * 86400 + 600 }))).toBe('UNAUTHENTICATED');
    expect(await refusal(await issuer.sign({ ...claims, iat: undefined }, { expiresIn: 7200 }))).toBe('UNAUTHENTICATED');
    expect(await refusal(await issuer.sign({ ...claims, iat: undefined }, { expiresIn: 1800 }))).toBe('accepted');
    const day = createAuthenticator(oidc({ maxTokenLifetimeSec: 86400 }));
    expect(await refusal(await issuer.sign(claims, { expiresIn: 7200 }), day)).toBe('accepted');
  });

  it('keep a subject without control characters, at most 128 characters; one that is nothing else is refused', async () => {
    const principal = await auth.verify(`Bearer ${await issuer.sign({ sub: `bob\r\nrole=admin\u200b${'b'.repeat(200)}`, role: 'billing' })}`);
    expect(principal.sub).toBe(`bobrole=admin${'b'.repeat(115)}`);
    expect(await refusal(await issuer.sign({ sub: '\n\u0007\u202e', role: 'billing' }))).toBe('UNAUTHENTICATED');
  });

  it('are refused when the discovery document names another issuer', async () => {
    issuer.discovery.issuer = 'https://evil.example/realms/test';
    try {
      const fresh = createAuthenticator(oidc());
      expect(await refusal(await issuer.sign({ sub: 'alice', role: 'clinician' }), fresh)).toBe('UNAUTHENTICATED');
    } finally {
      delete issuer.discovery.issuer;
    }
  });

  it('are refused when malformed', async () => {
    for (const header of [undefined, '', 'Bearer', 'Bearer ', 'Basic dXNlcjpwYXNz', 'Bearer a.b', 'Bearer not a token', `Bearer ${'a'.repeat(50)}.${'b'.repeat(50)}.c`]) {
      await expect(auth.verify(header)).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
    }
  });
});

describe('a gateway wired to the issuer', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({
      config: (sources) => ({
        server: { port: 0, logLevel: 'silent' },
        cache: { url: 'pglite:memory:', defaultTtlSeconds: 0 },
        auth: { mode: 'oidc', issuer: issuer.issuer, audience: AUDIENCE },
        security: { deidKey: 'd'.repeat(40) },
        sources,
      }),
    });
  });
  afterAll(async () => t?.close());

  const post = async (token: string) => {
    const res = await fetch(`${t.gateway.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: '{ sources { id } }' }),
    });
    return { status: res.status, body: (await res.json()) as any };
  };

  it('answers a valid token and refuses a bad one with 401 UNAUTHENTICATED and the same message', async () => {
    const ok = await post(await issuer.sign({ sub: 'alice', role: 'clinician', scope: 'user/*.rs' }));
    expect(ok.status).toBe(200);
    expect(ok.body.data.sources.map((s: any) => s.id)).toEqual(['mercy', 'stjude']);
    const expired = await post(await issuer.sign({ sub: 'alice', role: 'clinician' }, { expiresIn: -3600 }));
    const wrongAud = await post(await issuer.sign({ sub: 'alice', role: 'clinician' }, { audience: 'other' }));
    for (const r of [expired, wrongAud]) {
      expect(r.status).toBe(401);
      expect(r.body).toEqual({ errors: [{ message: 'Authentication required: send a valid bearer token', extensions: { code: 'UNAUTHENTICATED' } }] });
    }
  });
});

describe('chartgraph token (dev mode, offline)', () => {
  it('mints a token for the role, scopes and subject that the same config’s dev mode accepts', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'cg-token-'));
    try {
      const raw = { auth: { mode: 'dev' }, sources: [{ id: 'x', kind: 'fhir', name: 'X', baseUrl: 'http://127.0.0.1:1/fhir' }] };
      await writeFile(path.join(dir, 'chartgraph.json'), JSON.stringify(raw));
      const cli = path.resolve('server/cli.ts');
      const { stdout } = await promisify(execFile)(
        path.resolve('node_modules/.bin/tsx'),
        ['--tsconfig', path.resolve('tsconfig.json'), cli, '--config', 'chartgraph.json', 'token', '--role', 'billing', '--scopes', 'user/Coverage.rs', 'user/Patient.rs', '--sub', 'dana'],
        { cwd: dir, env: { ...process.env, NODE_OPTIONS: '' } },
      );
      const principal = await createAuthenticator(parseConfig(raw).auth, { secretFile: path.join(dir, '.chartgraph/dev-secret') }).verify(`Bearer ${stdout.trim()}`);
      expect(principal).toEqual({ sub: 'dana', role: 'billing', scopes: ['user/Coverage.rs', 'user/Patient.rs'] });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
