import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

/** A signing key of the test issuer. */
export interface IssuerKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

/** A tiny OpenID Provider: discovery document and JWKS over real HTTP, tokens signed with jose. */
export interface TestIssuer {
  /** The issuer URL (`http://127.0.0.1:<port>/realms/test`). */
  issuer: string;
  jwksUri: string;
  keys: { rs256: IssuerKey; es256: IssuerKey };
  /** Requests received, by path. */
  requests: string[];
  /** Overrides fields of the discovery document (e.g. another `issuer`). */
  discovery: Record<string, unknown>;
  sign(claims: JWTPayload, opts?: { key?: IssuerKey; header?: Record<string, unknown>; expiresIn?: number; audience?: string; issuer?: string }): Promise<string>;
  close(): Promise<void>;
}

async function makeKey(alg: 'RS256' | 'ES256', kid: string): Promise<IssuerKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

/** Starts the issuer on 127.0.0.1 at a random port. */
export async function startTestIssuer(audience: string): Promise<TestIssuer> {
  const keys = { rs256: await makeKey('RS256', 'rs-1'), es256: await makeKey('ES256', 'es-1') };
  const requests: string[] = [];
  const discovery: Record<string, unknown> = {};
  let base = '';
  const server: Server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.url === '/realms/test/.well-known/openid-configuration') {
      return send(200, { issuer: `${base}/realms/test`, jwks_uri: `${base}/realms/test/certs`, id_token_signing_alg_values_supported: ['RS256', 'ES256'], ...discovery });
    }
    if (req.url === '/realms/test/certs') return send(200, { keys: [keys.rs256.publicJwk, keys.es256.publicJwk] });
    send(404, { error: 'not found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issuer = `${base}/realms/test`;
  return {
    issuer,
    jwksUri: `${issuer}/certs`,
    keys,
    requests,
    discovery,
    async sign(claims, opts = {}) {
      const key = opts.key ?? keys.rs256;
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ iat: now, exp: now + (opts.expiresIn ?? 300), ...claims })
        .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...opts.header })
        .setIssuer(opts.issuer ?? issuer)
        .setAudience(opts.audience ?? audience)
        .sign(key.privateKey);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
