import { UpstreamError } from '../../errors/errors.js';
import type { FhirSourceConfig } from '../../config/config.schema.js';
import { DEFAULT_RESILIENCE, SourceResilience } from '../fhir/resilience.js';
import { SmartTokenProvider } from '../fhir/smart-auth.js';
import { deadlineSignal, readBodyCapped, toUpstreamError, type HttpResult } from '../fhir/upstream-http.js';

/** Options of {@link SourceHttp}. */
export interface SourceHttpOptions {
  fetch?: typeof fetch;
}

/** One request of {@link SourceHttp}. */
export interface SourceRequest {
  method?: 'GET' | 'DELETE';
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Deadline of the whole exchange, body included (default: the source's `timeoutMs`). */
  timeoutMs?: number;
  /**
   * Send the access token to a URL outside the source's origin (a Bulk Data manifest with
   * `requiresAccessToken: true` whose files live elsewhere). Same-origin URLs always get it.
   */
  tokenElsewhere?: boolean;
  /** Send no token at all (`/metadata` is public). */
  anonymous?: boolean;
}

/** A response whose body has not been read yet, with the signal that bounds reading it. */
export interface OpenResponse {
  response: Response;
  signal: AbortSignal;
}

/**
 * Authenticated HTTP to one FHIR source for the population sync: the source's auth (bearer
 * or SMART Backend Services, with one retry on 401 after dropping the token), a deadline per
 * exchange, the source's retries and breaker for whole GET exchanges (a walk of thousands of
 * pages meets a reset connection or a 503 sooner or later), and URL checks. The sync follows URLs the server hands out (next links, status
 * and file URLs), so those are resolved against the base and kept to the source's origin
 * unless the caller says otherwise.
 */
export class SourceHttp {
  readonly sourceId: string;
  /** The source's base URL without a trailing slash. */
  readonly base: string;
  private readonly origin: string;
  private readonly fetchFn: typeof fetch;
  private readonly tokens: SmartTokenProvider | undefined;
  private readonly resilience: SourceResilience;

  constructor(
    readonly source: FhirSourceConfig,
    opts: SourceHttpOptions = {},
  ) {
    this.sourceId = source.id;
    this.base = source.baseUrl.replace(/\/+$/, '');
    this.origin = new URL(this.base).origin;
    this.fetchFn = opts.fetch ?? fetch;
    this.tokens =
      source.auth.type === 'smart-backend' ? new SmartTokenProvider(source.id, source.auth, { fetch: this.fetchFn, timeoutMs: source.timeoutMs }) : undefined;
    this.resilience = new SourceResilience(source.id, { ...DEFAULT_RESILIENCE, ...source.resilience });
  }

  /**
   * Resolves a URL the server gave (absolute, or relative to the base). With `sameOrigin`
   * it must stay on the source's origin: the access token goes with it.
   * @throws UpstreamError when it is not a URL or leaves the origin.
   */
  resolve(url: string, what: string, sameOrigin = true): URL {
    let u: URL;
    try {
      u = new URL(url, `${this.base}/`);
    } catch {
      throw new UpstreamError(this.sourceId, 'UPSTREAM_UNAVAILABLE', { reason: `${what} is not a URL` });
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UpstreamError(this.sourceId, 'UPSTREAM_UNAVAILABLE', { reason: `${what} is not http(s)` });
    if (sameOrigin && u.origin !== this.origin) throw new UpstreamError(this.sourceId, 'UPSTREAM_UNAVAILABLE', { reason: `${what} leaves the source origin` });
    return u;
  }

  /**
   * One exchange with the body read as text; a GET is retried on network errors, 5xx and
   * short 429s. Rejects with an UpstreamError (never for a status: the caller judges those).
   */
  async request(url: URL, req: SourceRequest = {}): Promise<HttpResult> {
    const exchange = async (): Promise<HttpResult> => {
      const { response, signal } = await this.exchange(url, req);
      try {
        return { status: response.status, headers: response.headers, body: await readBodyCapped(this.sourceId, response, this.source.maxResponseBytes) };
      } catch (err) {
        // A body cut short is a network failure the retry may try again; a body over the cap is not.
        if (err instanceof UpstreamError || signal.aborted) throw toUpstreamError(this.sourceId, err, signal);
        throw err;
      }
    };
    try {
      return await ((req.method ?? 'GET') === 'GET' ? this.resilience.run(exchange, req.signal) : exchange());
    } catch (err) {
      throw toUpstreamError(this.sourceId, err, req.signal);
    }
  }

  /**
   * One exchange whose body the caller reads (streams), under the returned signal. The
   * caller must read or cancel the body.
   */
  async open(url: URL, req: SourceRequest = {}): Promise<OpenResponse> {
    const signal = deadlineSignal(req.timeoutMs ?? this.source.timeoutMs, req.signal);
    try {
      return await this.exchange(url, req, signal);
    } catch (err) {
      throw toUpstreamError(this.sourceId, err, signal);
    }
  }

  /** Sends once (again after a 401 with a fresh token); rejects with what fetch threw. */
  private async exchange(url: URL, req: SourceRequest, signal = deadlineSignal(req.timeoutMs ?? this.source.timeoutMs, req.signal)): Promise<OpenResponse> {
    const withToken = !req.anonymous && (url.origin === this.origin || req.tokenElsewhere === true);
    let token = withToken ? await this.accessToken(signal) : undefined;
    let response = await this.send(url, req, token, signal);
    if (response.status === 401 && this.tokens && token !== undefined) {
      await response.body?.cancel().catch(() => undefined);
      this.tokens.invalidate(token);
      token = await this.accessToken(signal);
      response = await this.send(url, req, token, signal);
    }
    return { response, signal };
  }

  private send(url: URL, req: SourceRequest, token: string | undefined, signal: AbortSignal): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/fhir+json', ...req.headers };
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    return this.fetchFn(url, { method: req.method ?? 'GET', headers, signal });
  }

  private async accessToken(signal: AbortSignal): Promise<string | undefined> {
    const auth = this.source.auth;
    if (auth.type === 'bearer') return auth.token;
    if (this.tokens) return this.tokens.getToken(signal);
    return undefined;
  }
}
