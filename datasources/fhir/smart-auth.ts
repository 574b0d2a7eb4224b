import { randomUUID } from 'node:crypto';
import { SignJWT, importJWK, importPKCS8, type CryptoKey, type JWK } from 'jose';
import { UpstreamError } from '../../errors/errors.js';
import type { FhirSourceConfig } from '../../config/config.schema.js';
import type { UpstreamCall } from './fhir-types.js';
import { callOutcome, errorStatus, isObject, raceAbort, statusError, toUpstreamError, tryParseJson } from './upstream-http.js';

/** The `smart-backend` variant of a FHIR source's `auth` config. */
export type SmartBackendAuth = Extract<FhirSourceConfig['auth'], { type: 'smart-backend' }>;

/** Options of {@link SmartTokenProvider}. */
export interface SmartTokenProviderOptions {
  fetch?: typeof fetch;
  /** Clock for the token cache (ms since epoch); tests move it forward. */
  now?: () => number;
  /** Deadline of one token request. */
  timeoutMs: number;
  /** Told about every token request. */
  onCall?: (call: UpstreamCall) => void;
}

/** Seconds before `expires_in` at which a cached token stops being used. */
export const TOKEN_REFRESH_MARGIN_SEC = 60;
/** Lifetime of the client assertion JWT (SMART Backend Services: no more than five minutes). */
const ASSERTION_LIFETIME_SEC = 300;
/** SMART says `expires_in` is required; if a server leaves it out, assume the usual five minutes. */
const DEFAULT_EXPIRES_IN_SEC = 300;

interface CachedToken {
  accessToken: string;
  /** Epoch ms after which the token is not handed out again. */
  useUntil: number;
}

/**
 * SMART Backend Services (client_credentials grant with a private_key_jwt assertion)
 * for one source. Tokens are cached until {@link TOKEN_REFRESH_MARGIN_SEC} seconds before
 * they expire; concurrent callers share one in-flight token request.
 */
export class SmartTokenProvider {
  private readonly fetchFn: typeof fetch;
  private readonly now: () => number;
  private cached: CachedToken | undefined;
  private pending: Promise<CachedToken> | undefined;
  private key: Promise<CryptoKey | Uint8Array> | undefined;

  constructor(
    private readonly sourceId: string,
    private readonly auth: SmartBackendAuth,
    private readonly opts: SmartTokenProviderOptions,
  ) {
    this.fetchFn = opts.fetch ?? fetch;
    this.now = opts.now ?? Date.now;
  }

  /** A valid access token; fetches one if none is cached. Rejects with an UpstreamError. */
  async getToken(signal?: AbortSignal): Promise<string> {
    if (this.cached && this.now() < this.cached.useUntil) return this.cached.accessToken;
    // The shared request runs under its own deadline, not the first caller's signal, so
    // that one caller giving up does not fail everyone waiting on it.
    if (!this.pending) {
      this.pending = this.requestToken().finally(() => {
        this.pending = undefined;
      });
      // Every caller may have given up before it settles; its failure is reported through onCall.
      this.pending.catch(() => undefined);
    }
    try {
      return (await raceAbort(this.pending, signal)).accessToken;
    } catch (err) {
      throw toUpstreamError(this.sourceId, err, signal);
    }
  }

  /**
   * Drops `token` from the cache after the FHIR server refused it (401). A token fetched
   * meanwhile by another request is kept.
   */
  invalidate(token: string): void {
    if (this.cached?.accessToken === token) this.cached = undefined;
  }

  private async requestToken(): Promise<CachedToken> {
    const started = performance.now();
    let status: number | undefined;
    try {
      const assertion = await this.signAssertion();
      const form = new URLSearchParams({
        grant_type: 'client_credentials',
        scope: this.auth.scope,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: assertion,
      });
      const signal = AbortSignal.timeout(this.opts.timeoutMs);
      const res = await this.fetchFn(this.auth.tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: form.toString(),
        signal,
      });
      const body = await res.text();
      status = res.status;
      if (!res.ok) {
        const err = statusError(this.sourceId, { status: res.status, headers: res.headers, body: '' });
        const parsed = tryParseJson(body);
        // The OAuth `error` code (RFC 6749 §5.2) is a fixed vocabulary and safe to log;
        // `error_description` is free text and is not kept.
        const oauthError = isObject(parsed) && typeof parsed.error === 'string' && /^[a-z_]{1,64}$/.test(parsed.error) ? parsed.error : undefined;
        throw err.code === 'UPSTREAM_RATE_LIMITED'
          ? err
          : new UpstreamError(this.sourceId, 'UPSTREAM_UNAVAILABLE', {
              status: res.status,
              reason: `token endpoint refused${oauthError ? `: ${oauthError}` : ''}`,
            });
      }
      const parsed = tryParseJson(body);
      if (!isObject(parsed) || typeof parsed.access_token !== 'string' || parsed.access_token === '') {
        throw new UpstreamError(this.sourceId, 'UPSTREAM_UNAVAILABLE', { status: res.status, reason: 'token response without access_token' });
      }
      const expiresIn = typeof parsed.expires_in === 'number' && parsed.expires_in > 0 ? parsed.expires_in : DEFAULT_EXPIRES_IN_SEC;
      // Short-lived tokens (two minutes or less) would never be usable with a fixed
      // 60 s margin, so those are kept for half their life instead.
      const keepSec = expiresIn > 2 * TOKEN_REFRESH_MARGIN_SEC ? expiresIn - TOKEN_REFRESH_MARGIN_SEC : expiresIn / 2;
      const token = { accessToken: parsed.access_token, useUntil: this.now() + keepSec * 1000 };
      this.cached = token;
      this.report(started, status, 'ok');
      return token;
    } catch (err) {
      const upstream = toUpstreamError(this.sourceId, err);
      this.report(started, status ?? errorStatus(upstream), callOutcome(upstream));
      throw upstream;
    }
  }

  private async signAssertion(): Promise<string> {
    const key = await this.privateKey();
    const nowSec = Math.floor(Date.now() / 1000);
    return new SignJWT({})
      .setProtectedHeader({ alg: this.auth.alg, typ: 'JWT', ...(this.auth.keyId !== undefined && { kid: this.auth.keyId }) })
      .setIssuer(this.auth.clientId)
      .setSubject(this.auth.clientId)
      .setAudience(this.auth.tokenUrl)
      .setJti(randomUUID())
      .setIssuedAt(nowSec)
      .setExpirationTime(nowSec + ASSERTION_LIFETIME_SEC)
      .sign(key);
  }

  /** The signing key, imported once. A key that cannot be read is a config problem; the message never quotes it. */
  private privateKey(): Promise<CryptoKey | Uint8Array> {
    this.key ??= (async () => {
      const text = this.auth.privateKey.trim();
      try {
        if (text.startsWith('{')) return await importJWK(JSON.parse(text) as JWK, this.auth.alg);
        // Keys from environment variables often arrive with literal "\n" for newlines.
        return await importPKCS8(text.replace(/\\n/g, '\n'), this.auth.alg);
      } catch {
        throw new UpstreamError(this.sourceId, 'UPSTREAM_UNAVAILABLE', { reason: `private key for ${this.auth.alg} could not be read` });
      }
    })();
    // A failed import is kept: the key comes from config and will not fix itself.
    return this.key;
  }

  private report(started: number, status: number | undefined, outcome: UpstreamCall['outcome']): void {
    this.opts.onCall?.({
      sourceId: this.sourceId,
      resourceType: '',
      interaction: 'token',
      pages: outcome === 'ok' ? 1 : 0,
      ...(status !== undefined && { status }),
      outcome,
      ms: performance.now() - started,
    });
  }
}
