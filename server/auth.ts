import { randomUUID } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { createRemoteJWKSet, jwtVerify, SignJWT, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { AuthConfig } from '../config/config.schema.js';
import { UnauthenticatedError } from '../errors/errors.js';
import { readOrCreateSecret } from './local-secret.js';
import { isRole, type Principal, type Role } from '../permissions/roles.js';

/** Verifies `Authorization: Bearer` headers. Every failure is the same UNAUTHENTICATED error. */
export interface Authenticator {
  verify(authorization: string | undefined): Promise<Principal>;
  /** As `verify`, with when the token expires (ms since the epoch): long-lived streams end then. */
  session(authorization: string | undefined): Promise<TokenSession>;
}

/** Who a verified token names, and until when. */
export interface TokenSession {
  principal: Principal;
  expiresAt: number;
}

/** Where dev mode keeps its generated signing secret when the config gives none. */
export const DEV_SECRET_FILE = '.chartgraph/dev-secret';

/** Scopes a dev token gets unless `--scopes` says otherwise. */
export const DEFAULT_DEV_SCOPES = ['user/*.rs'];

const DEV_CLOCK_TOLERANCE_SEC = 30;
/** The most characters of a token's `sub` that are kept (audit events, rate-limit keys). */
export const MAX_SUBJECT_LENGTH = 128;
const VERIFIED_TOKEN_TTL_MS = 60_000;

/** The dev-mode HS256 key: the config's secret, or one generated once and kept on disk. */
export function devSigningKey(auth: Extract<AuthConfig, { mode: 'dev' }>, secretFile = DEV_SECRET_FILE): Uint8Array {
  return new TextEncoder().encode(auth.secret ?? readOrCreateSecret(secretFile));
}

export interface DevTokenOptions {
  role: Role;
  scopes?: readonly string[];
  sub?: string;
  ttlSeconds?: number;
}

/** Mints a token that the same config's dev mode accepts (`chartgraph token`); it lives `auth.maxTokenLifetimeSec` unless told less. */
export async function mintDevToken(auth: AuthConfig, options: DevTokenOptions, secretFile?: string): Promise<string> {
  if (auth.mode !== 'dev') throw new Error('dev tokens need `auth.mode: dev`; with oidc, get tokens from your identity provider');
  const ttl = options.ttlSeconds ?? auth.maxTokenLifetimeSec;
  if (ttl > auth.maxTokenLifetimeSec) throw new Error(`a token may live at most ${auth.maxTokenLifetimeSec} s (auth.maxTokenLifetimeSec)`);
  return new SignJWT({ role: options.role, scope: (options.scopes ?? DEFAULT_DEV_SCOPES).join(' ') })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(options.sub ?? `dev-${options.role}`)
    .setIssuer(auth.issuer)
    .setAudience(auth.audience)
    .setIssuedAt()
    .setNotBefore('0s')
    .setJti(randomUUID())
    .setExpirationTime(`${ttl}s`)
    .sign(devSigningKey(auth, secretFile));
}

/** A claim by name, or by dotted path for nested claims (Keycloak's `realm_access.roles`). */
function claimAt(payload: JWTPayload, path: string): unknown {
  if (path in payload) return payload[path];
  return path.split('.').reduce<unknown>((v, key) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined), payload);
}

/**
 * The subject as stored in audit events and used as a rate-limit key: control and
 * formatting characters (newlines, bidi overrides, zero-width) removed, at most
 * {@link MAX_SUBJECT_LENGTH} characters. Null when nothing is left.
 */
export function normalizeSubject(sub: string): string | null {
  const clean = sub.replace(/[\p{Cc}\p{Cf}\u2028\u2029]/gu, '').trim().slice(0, MAX_SUBJECT_LENGTH);
  return clean || null;
}

function principalFrom(payload: JWTPayload, roleClaim: string): Principal | null {
  const raw = claimAt(payload, roleClaim);
  const role = (Array.isArray(raw) ? raw : [raw]).find(isRole);
  const sub = typeof payload.sub === 'string' ? normalizeSubject(payload.sub) : null;
  if (!role || !sub) return null;
  const scopeClaim = payload.scope ?? payload.scp;
  const scopes = Array.isArray(scopeClaim) ? scopeClaim.map(String) : typeof scopeClaim === 'string' ? scopeClaim.split(' ').filter(Boolean) : [];
  return { sub, role, scopes };
}

/**
 * A token may not live longer than `maxSec`: neither `exp - iat` nor what is left of it
 * (`exp - now`, beyond the clock tolerance; this also catches an `iat` in the future). A
 * leaked long-lived token would otherwise stay good for years.
 */
function withinLifetime(payload: JWTPayload, maxSec: number, toleranceSec: number): boolean {
  const exp = payload.exp ?? Infinity;
  if (typeof payload.iat === 'number' && exp - payload.iat > maxSec) return false;
  return exp - Date.now() / 1000 <= maxSec + toleranceSec;
}

function withExpiry(principal: Principal | null, payload: JWTPayload): { principal: Principal; expiresAt: number } | null {
  // `exp` is required by the verification options, so it is there.
  return principal && { principal, expiresAt: (payload.exp ?? 0) * 1000 };
}

async function discoverJwksUri(issuer: string): Promise<string> {
  const res = await fetch(new URL('.well-known/openid-configuration', issuer.endsWith('/') ? issuer : `${issuer}/`), {
    signal: AbortSignal.timeout(5_000),
  });
  if (!res.ok) throw new Error(`OIDC discovery failed (HTTP ${res.status})`);
  const doc = (await res.json()) as { jwks_uri?: string; issuer?: string };
  if (!doc.jwks_uri) throw new Error('OIDC discovery document has no jwks_uri');
  // OpenID Connect Discovery 1.0 §4.3: the document must name the issuer it was fetched
  // from, or a compromised or misconfigured host could hand out someone else's keys.
  if (doc.issuer?.replace(/\/$/, '') !== issuer.replace(/\/$/, '')) throw new Error('OIDC discovery document names another issuer');
  return doc.jwks_uri;
}

/** Builds the authenticator for the configured mode. */
export function createAuthenticator(auth: AuthConfig, opts: { secretFile?: string } = {}): Authenticator {
  // Resolves with who the token names and when it expires (ms), or null for a valid token that names no role.
  let verifyToken: (token: string) => Promise<{ principal: Principal; expiresAt: number } | null>;
  if (auth.mode === 'dev') {
    const key = devSigningKey(auth, opts.secretFile);
    verifyToken = async (token) => {
      const { payload } = await jwtVerify(token, key, {
        issuer: auth.issuer,
        audience: auth.audience,
        algorithms: ['HS256'],
        clockTolerance: DEV_CLOCK_TOLERANCE_SEC,
        requiredClaims: ['exp', 'sub'],
      });
      if (!withinLifetime(payload, auth.maxTokenLifetimeSec, DEV_CLOCK_TOLERANCE_SEC)) return null;
      return withExpiry(principalFrom(payload, 'role'), payload);
    };
  } else {
    let jwks: Promise<JWTVerifyGetKey> | undefined;
    const keys = () =>
      (jwks ??= (auth.jwksUri ? Promise.resolve(auth.jwksUri) : discoverJwksUri(auth.issuer)).then((uri) => createRemoteJWKSet(new URL(uri)))).catch(
        (err: unknown) => {
          jwks = undefined; // try discovery again on the next request
          throw err;
        },
      );
    verifyToken = async (token) => {
      const { payload } = await jwtVerify(token, await keys(), {
        issuer: auth.issuer,
        audience: auth.audience,
        algorithms: auth.algorithms,
        clockTolerance: auth.clockToleranceSec,
        requiredClaims: ['exp', 'sub'],
      });
      if (!withinLifetime(payload, auth.maxTokenLifetimeSec, auth.clockToleranceSec)) return null;
      return withExpiry(principalFrom(payload, auth.roleClaim), payload);
    };
  }

  // A client sends the same token with every request: once its signature and claims have
  // been checked, the answer is kept until the token expires (at most a minute), so a
  // busy client costs one signature check a minute rather than one per request.
  const verified = new LRUCache<string, { principal: Principal; exp: number }>({ max: 10_000, ttl: VERIFIED_TOKEN_TTL_MS });
  const session = async (authorization: string | undefined): Promise<TokenSession> => {
    // RFC 7235 §2.1: the scheme name is case-insensitive.
    const match = /^Bearer +([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/i.exec(authorization?.trim() ?? '');
    if (!match) throw new UnauthenticatedError();
    const token = match[1]!;
    const known = verified.get(token);
    if (known && known.exp > Date.now()) return { principal: known.principal, expiresAt: known.exp };
    try {
      const found = await verifyToken(token);
      if (found) {
        verified.set(token, { principal: found.principal, exp: found.expiresAt });
        return found;
      }
    } catch {
      // jose's errors say which check failed (or that the issuer's keys could not be
      // fetched); the client must not learn which.
    }
    throw new UnauthenticatedError();
  };
  return {
    session,
    async verify(authorization) {
      return (await session(authorization)).principal;
    },
  };
}
