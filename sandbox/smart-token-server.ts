import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors as joseErrors,
  exportJWK,
  exportPKCS8,
  generateKeyPair,
  jwtVerify,
  type JWK,
} from 'jose';
import { BodyTooLargeError, readBody, sleep } from './http-util.js';
import { RequestLog } from './request-log.js';

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** Algorithms SMART Backend Services allows for client assertions. */
export const SMART_ASSERTION_ALGS = ['RS384', 'ES384'] as const;
const MAX_ASSERTION_LIFETIME_SEC = 300;
const CLOCK_TOLERANCE_SEC = 5;

/** A client key pair, exported for a gateway config (private) and the server (public). */
export interface ClientKey {
  alg: 'RS384' | 'ES384';
  kid: string;
  /** PKCS#8 PEM of the private key. */
  privateKeyPem: string;
  publicJwk: JWK;
}

/** Generates a signing key pair for a SMART backend client. */
export async function generateClientKey(alg: 'RS384' | 'ES384', kid: string): Promise<ClientKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'RS384' && { modulusLength: 2048 }) });
  const publicJwk = { ...(await exportJWK(publicKey)), alg, kid, use: 'sig' };
  return { alg, kid, privateKeyPem: await exportPKCS8(privateKey), publicJwk };
}

/** An access token this server issued. */
export interface IssuedToken {
  clientId: string;
  scopes: string[];
  /** Epoch ms. */
  expiresAt: number;
}

/** Options for {@link SmartTokenServer.start}. */
export interface SmartTokenServerOptions {
  host?: string;
  /** 0: a random free port. */
  port?: number;
  /** Lifetime of issued access tokens, seconds. Default 300. */
  expiresIn?: number;
  /** Added latency per token request, ms. */
  latencyMs?: number;
}

/** OAuth2 error answer. */
class OAuthError extends Error {
  constructor(
    readonly error: 'invalid_request' | 'invalid_client' | 'invalid_grant' | 'unsupported_grant_type' | 'invalid_scope',
    readonly description: string,
    readonly status = error === 'invalid_client' ? 401 : 400,
  ) {
    super(description);
  }
}

const SCOPE_RE = /^system\/(\*|[A-Z][A-Za-z]+)\.(read|\*|c?r?u?d?s?)$/;

/**
 * SMART Backend Services token endpoint (`POST /oauth2/token`): client_credentials with a
 * private_key_jwt client assertion (RS384 or ES384), verified against registered keys.
 * Issues opaque bearer tokens that the simulated EHRs check with {@link validateAccessToken}.
 */
export class SmartTokenServer {
  /** The token endpoint URL, also the `aud` client assertions must carry. */
  url = '';
  readonly requests = new RequestLog();
  expiresIn: number;
  latencyMs: number;
  private readonly clients = new Map<string, JWK[]>();
  private readonly tokens = new Map<string, IssuedToken>();
  private readonly usedJti = new Map<string, number>();
  private server?: Server;

  private constructor(opts: SmartTokenServerOptions) {
    this.expiresIn = opts.expiresIn ?? 300;
    this.latencyMs = opts.latencyMs ?? 0;
  }

  /** Starts listening. */
  static async start(opts: SmartTokenServerOptions = {}): Promise<SmartTokenServer> {
    const s = new SmartTokenServer(opts);
    const server = createServer((req, res) => void s.handle(req, res));
    s.server = server;
    const host = opts.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, host, () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    s.url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/oauth2/token`;
    return s;
  }

  /** Registers (or replaces) a client and its public keys. */
  registerClient(clientId: string, publicJwks: JWK[]): void {
    this.clients.set(clientId, publicJwks);
  }

  /** The grant of a live access token, or undefined (unknown or expired). */
  validateAccessToken(token: string): IssuedToken | undefined {
    const t = this.tokens.get(token);
    if (!t) return undefined;
    if (t.expiresAt <= Date.now()) {
      this.tokens.delete(token);
      return undefined;
    }
    return t;
  }

  /** Invalidates every issued token (the EHRs then answer 401 until a new one is fetched). */
  revokeAll(): void {
    this.tokens.clear();
  }

  /** Stops the server and drops open connections. */
  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const rec = this.requests.add({ method: req.method ?? 'GET', path: url.pathname, interaction: 'token', params: [], time: Date.now(), status: 0 });
    const started = performance.now();
    const send = (status: number, body: unknown): void => {
      rec.status = status;
      rec.durationMs = performance.now() - started;
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', pragma: 'no-cache' });
      res.end(JSON.stringify(body));
    };
    try {
      if (this.latencyMs > 0) await sleep(this.latencyMs);
      if (url.pathname !== '/oauth2/token') return send(404, { error: 'not_found' });
      if (req.method !== 'POST') return send(405, { error: 'invalid_request', error_description: 'use POST' });
      const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
      if (type !== 'application/x-www-form-urlencoded') throw new OAuthError('invalid_request', 'body must be application/x-www-form-urlencoded');
      const form = new URLSearchParams(await readBody(req, 64 * 1024));
      // Record parameter names only: the assertion is a credential.
      rec.params = [...form.keys()].map((k) => [k, k === 'client_assertion' ? '<redacted>' : (form.get(k) ?? '')]);
      send(200, await this.issue(form));
    } catch (e) {
      if (e instanceof OAuthError) return send(e.status, { error: e.error, error_description: e.description });
      if (e instanceof BodyTooLargeError) return send(400, { error: 'invalid_request', error_description: e.message });
      send(500, { error: 'server_error' });
    }
  }

  private async issue(form: URLSearchParams): Promise<{ access_token: string; token_type: 'bearer'; expires_in: number; scope: string }> {
    const grantType = form.get('grant_type');
    if (!grantType) throw new OAuthError('invalid_request', 'grant_type is required');
    if (grantType !== 'client_credentials') throw new OAuthError('unsupported_grant_type', 'only client_credentials is supported');
    if (form.get('client_assertion_type') !== CLIENT_ASSERTION_TYPE) throw new OAuthError('invalid_request', `client_assertion_type must be ${CLIENT_ASSERTION_TYPE}`);
    const assertion = form.get('client_assertion');
    if (!assertion) throw new OAuthError('invalid_request', 'client_assertion is required');
    const scope = form.get('scope');
    if (!scope) throw new OAuthError('invalid_request', 'scope is required');

    let claims: ReturnType<typeof decodeJwt>;
    try {
      decodeProtectedHeader(assertion);
      claims = decodeJwt(assertion);
    } catch {
      throw new OAuthError('invalid_client', 'client_assertion is not a JWT');
    }
    const clientId = claims.iss;
    const keys = clientId ? this.clients.get(clientId) : undefined;
    if (!clientId || !keys) throw new OAuthError('invalid_client', 'unknown client');
    if (claims.sub !== clientId) throw new OAuthError('invalid_client', 'iss and sub must both be the client id');
    const formClientId = form.get('client_id');
    if (formClientId && formClientId !== clientId) throw new OAuthError('invalid_client', 'client_id does not match the assertion');

    let payload: Awaited<ReturnType<typeof jwtVerify>>['payload'];
    try {
      ({ payload } = await jwtVerify(assertion, createLocalJWKSet({ keys }), {
        algorithms: [...SMART_ASSERTION_ALGS],
        issuer: clientId,
        subject: clientId,
        audience: this.url,
        requiredClaims: ['exp', 'jti'],
        clockTolerance: CLOCK_TOLERANCE_SEC,
      }));
    } catch (e) {
      throw new OAuthError('invalid_client', describeJoseError(e));
    }
    const nowSec = Date.now() / 1000;
    if (payload.exp! > nowSec + MAX_ASSERTION_LIFETIME_SEC + CLOCK_TOLERANCE_SEC) {
      throw new OAuthError('invalid_client', 'client_assertion exp must be at most 5 minutes in the future');
    }
    this.purgeJti(nowSec);
    const jtiKey = `${clientId}\u0000${payload.jti}`;
    if (this.usedJti.has(jtiKey)) throw new OAuthError('invalid_client', 'client_assertion jti was already used');
    this.usedJti.set(jtiKey, payload.exp!);

    const scopes = scope.split(/\s+/).filter(Boolean);
    const bad = scopes.filter((s) => !SCOPE_RE.test(s));
    if (bad.length || !scopes.length) throw new OAuthError('invalid_scope', 'only system/<type>.<permissions> scopes are granted');

    const accessToken = randomBytes(24).toString('base64url');
    this.tokens.set(accessToken, { clientId, scopes, expiresAt: Date.now() + this.expiresIn * 1000 });
    return { access_token: accessToken, token_type: 'bearer', expires_in: this.expiresIn, scope: scopes.join(' ') };
  }

  private purgeJti(nowSec: number): void {
    for (const [k, exp] of this.usedJti) if (exp + CLOCK_TOLERANCE_SEC < nowSec) this.usedJti.delete(k);
  }
}

function describeJoseError(e: unknown): string {
  if (e instanceof joseErrors.JWTExpired) return 'client_assertion has expired';
  if (e instanceof joseErrors.JWTClaimValidationFailed) return `client_assertion claim "${e.claim}" is invalid`;
  if (e instanceof joseErrors.JWSSignatureVerificationFailed) return 'client_assertion signature does not verify';
  if (e instanceof joseErrors.JWKSNoMatchingKey) return 'no registered key matches the client_assertion';
  if (e instanceof joseErrors.JOSEAlgNotAllowed) return 'client_assertion must be signed RS384 or ES384';
  return 'client_assertion is invalid';
}

/** Whether SMART scopes grant an interaction on a resource type (v1 `.read` and v2 `.rs` forms). */
export function scopesAllow(scopes: readonly string[], type: string, interaction: 'read' | 'search' | 'create' | 'update'): boolean {
  const writing = interaction === 'create' || interaction === 'update';
  return scopes.some((s) => {
    const m = /^(system|user|patient)\/(\*|[A-Za-z]+)\.(.+)$/.exec(s);
    if (!m || (m[2] !== '*' && m[2] !== type)) return false;
    const perm = m[3];
    if (perm === '*') return true;
    if (perm === 'read') return !writing;
    if (perm === 'write') return writing;
    return perm.includes({ read: 'r', search: 's', create: 'c', update: 'u' }[interaction]);
  });
}
