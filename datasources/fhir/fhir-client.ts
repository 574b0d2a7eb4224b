import pLimit, { type LimitFunction } from 'p-limit';
import { UpstreamError } from '../../errors/errors.js';
import type { FhirSourceConfig } from '../../config/config.schema.js';
import type { Bundle, FhirResource, SearchParams, SourceCapabilities, UpstreamCall } from './fhir-types.js';
import { fallbackCapabilities, readCapabilities } from './capabilities.js';
import { buildSearchQuery } from './search-params.js';
import { DEFAULT_RESILIENCE, SourceResilience, type BreakerState } from './resilience.js';
import { SearchsetCheck, violationCounts } from './searchset-check.js';
import { checkReadAnswer, violationsOf } from './read-check.js';
import { SmartTokenProvider } from './smart-auth.js';
import {
  callOutcome,
  deadlineSignal,
  errorStatus,
  isObject,
  raceAbort,
  readBodyCapped,
  statusError,
  summariseOutcome,
  toUpstreamError,
  tryParseJson,
  type HttpResult,
} from './upstream-http.js';

/** Options of {@link FhirClient}. */
export interface FhirClientOptions {
  /** The fetch to use (defaults to the global one). */
  fetch?: typeof fetch;
  /** Told once per logical call: a whole paged search, a read, a /metadata or token fetch. */
  onCall?: (call: UpstreamCall) => void;
  /** Clock (ms since epoch) for the token and capabilities caches; tests move it. */
  now?: () => number;
  /** Pages one search may follow, per patient it covers (default {@link DEFAULT_MAX_PAGES_PER_PATIENT}). */
  maxPagesPerPatient?: number;
  /** After a failed /metadata, how long the fallback capabilities are used before asking again (default 30 s). */
  capabilitiesRetryMs?: number;
  /** Randomness of the retry backoff jitter; tests pin it. */
  random?: () => number;
  /** Structural validation of every item (type and patient checks always run); default true. Off only to measure its cost. */
  validate?: boolean;
}

/** Counted over one logical call, reported with it. */
interface CallStats {
  retries: number;
}

/** Options of one search. */
export interface SearchOptions {
  /** The caller's signal; combined with the source's `timeoutMs`. */
  signal?: AbortSignal;
  /** How many patients this search covers (OR lists), for the page guard and metrics. */
  patients?: number;
}

/**
 * The page guard: one search follows at most this many `next` links per patient it
 * covers (so an OR search over 20 patients may follow 2,000). Beyond that the search
 * stops with a `page-limit` problem: the pages read are answered, marked, and never cached.
 * With the default page size of 100 that is 10,000 resources per patient per type.
 */
export const DEFAULT_MAX_PAGES_PER_PATIENT = 100;

const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;
const JSON_TYPES = /^application\/(fhir\+json|json|json\+fhir)\b/i;

/**
 * A FHIR R4 REST client for one source: capabilities, paged search, read, auth, deadline
 * and a per-source concurrency cap. Long-lived (one per source per process); it holds the
 * token cache, the capabilities memo and the concurrency limiter, and no per-request state.
 */
export class FhirClient {
  readonly sourceId: string;
  private readonly base: string;
  private readonly fetchFn: typeof fetch;
  private readonly limit: LimitFunction;
  private readonly tokens: SmartTokenProvider | undefined;
  private readonly resilience: SourceResilience;
  private readonly now: () => number;
  private capabilities: Promise<SourceCapabilities> | undefined;
  private readonly inFlight = new Map<string, Promise<FhirResource[]>>();
  private capabilitiesRetryAt = 0;

  constructor(
    readonly source: FhirSourceConfig,
    private readonly opts: FhirClientOptions = {},
  ) {
    this.sourceId = source.id;
    this.base = source.baseUrl.replace(/\/+$/, '');
    this.fetchFn = opts.fetch ?? fetch;
    this.now = opts.now ?? Date.now;
    this.limit = pLimit(source.maxConcurrency);
    this.resilience = new SourceResilience(source.id, { ...DEFAULT_RESILIENCE, ...source.resilience }, opts.random, this.now);
    this.tokens =
      source.auth.type === 'smart-backend'
        ? new SmartTokenProvider(source.id, source.auth, {
            fetch: this.fetchFn,
            now: this.now,
            timeoutMs: source.timeoutMs,
            onCall: opts.onCall,
          })
        : undefined;
  }

  /** The circuit breaker's state: `open` means calls fail at once until a trial call succeeds. */
  get breakerState(): BreakerState {
    return this.resilience.state;
  }

  /**
   * The source's capabilities from `GET [base]/metadata`, with config overrides applied.
   * Memoised; when /metadata fails the safe fallback is used and /metadata is asked again
   * after `capabilitiesRetryMs`, so one bad moment does not stick for the process's life.
   */
  getCapabilities(): Promise<SourceCapabilities> {
    if (!this.capabilities || this.now() >= this.capabilitiesRetryAt) {
      this.capabilitiesRetryAt = Number.POSITIVE_INFINITY;
      this.capabilities = this.fetchCapabilities();
    }
    return this.capabilities;
  }

  private async fetchCapabilities(): Promise<SourceCapabilities> {
    const started = performance.now();
    // Half the source deadline: a hanging /metadata must leave time for the search that
    // waits on it to go ahead with the fallback.
    const signal = AbortSignal.timeout(Math.max(1, Math.floor(this.source.timeoutMs / 2)));
    let status: number | undefined;
    try {
      // The CapabilityStatement is public (SMART App Launch requires it without auth).
      const res = await this.exchange(new URL(`${this.base}/metadata`), signal, { auth: false });
      status = res.status;
      if (res.status < 200 || res.status > 299) throw statusError(this.sourceId, res);
      const statement = this.parseResource(res);
      if (statement.resourceType !== 'CapabilityStatement') {
        throw new UpstreamError(this.sourceId, 'UPSTREAM_UNAVAILABLE', { status, reason: `metadata is a ${statement.resourceType}` });
      }
      this.report({ resourceType: 'CapabilityStatement', interaction: 'metadata', pages: 1, status, outcome: 'ok' }, started);
      return readCapabilities(this.source, statement);
    } catch (err) {
      const upstream = toUpstreamError(this.sourceId, err, signal);
      this.report(
        { resourceType: 'CapabilityStatement', interaction: 'metadata', pages: 0, status: status ?? errorStatus(upstream), outcome: callOutcome(upstream) },
        started,
      );
      this.capabilitiesRetryAt = this.now() + (this.opts.capabilitiesRetryMs ?? 30_000);
      return fallbackCapabilities(this.source);
    }
  }

  /**
   * The first-page URL of a search, as {@link search} sends it: `[base]/[type]?params&_count=n`
   * with n = min(pageSize, maxCount). Any `_count` in `params` is replaced. Exposed so
   * that OR-list batching can cut chunks against the real URL length.
   */
  searchUrl(resourceType: string, params: SearchParams, capabilities: SourceCapabilities): string {
    const count = Math.min(this.source.pageSize, capabilities.maxCount);
    const query = buildSearchQuery([...params.filter(([name]) => name !== '_count'), ['_count', String(count)]]);
    return `${this.base}/${resourceType}?${query}`;
  }

  /**
   * Searches `resourceType` and follows `Bundle.link[rel=next]` to the end. Returns the
   * entries whose `search.mode` is `match` (or absent) that pass {@link SearchsetCheck}:
   * of the searched type, well formed, of a patient the search asked for; what was set
   * aside, paging cut short and server warnings are in `problemsOf(result)`. Values in
   * `params` must already be FHIR-escaped where they come from users. Rejects with an
   * UpstreamError when the source fails.
   */
  async search(resourceType: string, params: SearchParams, opts: SearchOptions = {}): Promise<FhirResource[]> {
    // Single flight: identical searches in flight at once (two dashboards opening together)
    // share one upstream search. The shared search runs under the source's own deadline,
    // not the first caller's signal, so one caller leaving does not fail the others.
    const key = `${resourceType}?${buildSearchQuery(params)}`;
    const running = this.inFlight.get(key);
    let work = running;
    if (!work) {
      work = this.searchUpstream(resourceType, params, { ...opts, signal: undefined });
      this.inFlight.set(key, work);
      const done = () => this.inFlight.delete(key);
      void work.then(done, done);
    }
    const started = performance.now();
    try {
      const results = await raceAbort(work, opts.signal);
      if (running) {
        this.report({ resourceType, interaction: 'search', pages: 0, outcome: 'ok', shared: true, ...(opts.patients !== undefined && { patients: opts.patients }) }, started);
      }
      return results;
    } catch (err) {
      throw toUpstreamError(this.sourceId, err, opts.signal);
    }
  }

  private async searchUpstream(resourceType: string, params: SearchParams, opts: SearchOptions): Promise<FhirResource[]> {
    const started = performance.now();
    const signal = deadlineSignal(this.source.timeoutMs, opts.signal);
    const maxPages = (this.opts.maxPagesPerPatient ?? DEFAULT_MAX_PAGES_PER_PATIENT) * Math.max(1, opts.patients ?? 1);
    let pages = 0;
    let status: number | undefined;
    const stats: CallStats = { retries: 0 };
    const base = { resourceType, interaction: 'search' as const, ...(opts.patients !== undefined && { patients: opts.patients }) };
    try {
      const capabilities = await raceAbort(this.getCapabilities(), signal);
      let url: URL | undefined = new URL(this.searchUrl(resourceType, params, capabilities));
      const check = new SearchsetCheck(resourceType, params, this.base, { structure: this.opts.validate ?? true });
      while (url) {
        check.visit(url);
        const res = await this.exchange(url, signal, { stats });
        status = res.status;
        const bundle = this.expectBundle(res);
        pages++;
        check.takePage(bundle);
        url = check.nextUrl(bundle, pages, maxPages);
      }
      const results = check.finish();
      const violations = violationCounts(check.problems);
      this.report({ ...base, pages, status, outcome: violations.length ? 'invalid' : 'ok', retries: stats.retries, ...(violations.length && { violations }) }, started);
      return results;
    } catch (err) {
      const upstream = toUpstreamError(this.sourceId, err, signal);
      this.report({ ...base, pages, status: status ?? errorStatus(upstream), outcome: callOutcome(upstream), retries: stats.retries }, started);
      throw upstream;
    }
  }

  /** Reads one resource; null when the server says 404 or 410, or the id cannot be a FHIR id. */
  async read(resourceType: string, id: string, opts: { signal?: AbortSignal } = {}): Promise<FhirResource | null> {
    // An id like `..` would walk the URL out of the resource type; no FHIR id looks like that.
    if (!FHIR_ID.test(id)) return null;
    const started = performance.now();
    const signal = deadlineSignal(this.source.timeoutMs, opts.signal);
    let status: number | undefined;
    const stats: CallStats = { retries: 0 };
    try {
      const res = await this.exchange(new URL(`${this.base}/${resourceType}/${id}`), signal, { stats });
      status = res.status;
      let resource: FhirResource | null;
      if (res.status === 404 || res.status === 410) {
        resource = null;
      } else {
        if (res.status < 200 || res.status > 299) throw statusError(this.sourceId, res);
        resource = this.parseResource(res);
        if (resource.resourceType !== resourceType && resource.resourceType === 'OperationOutcome') throw this.unexpected(resource, status);
        checkReadAnswer(this.sourceId, resourceType, id, resource, { structure: this.opts.validate ?? true });
      }
      this.report({ resourceType, interaction: 'read', pages: 1, status, outcome: 'ok', patients: 1, retries: stats.retries }, started);
      return resource;
    } catch (err) {
      const upstream = toUpstreamError(this.sourceId, err, signal);
      const violations = violationsOf(upstream);
      this.report(
        { resourceType, interaction: 'read', pages: 0, status: status ?? errorStatus(upstream), outcome: callOutcome(upstream), patients: 1, retries: stats.retries, ...(violations.length && { violations }) },
        started,
      );
      throw upstream;
    }
  }

  /**
   * One HTTP exchange with the source: auth header, a slot under `maxConcurrency`, the
   * body read in full, under the source's retries and circuit breaker. A 401
   * with SMART auth drops the cached token and tries once more with a fresh one.
   */
  private async exchange(url: URL, signal: AbortSignal, opts: { auth?: boolean; stats?: CallStats } = {}): Promise<HttpResult> {
    const useAuth = opts.auth ?? true;
    const attempt = (token: string | undefined) =>
      this.resilience.run(() => this.send(url, token, signal), signal, () => {
        if (opts.stats) opts.stats.retries++;
      });
    let token = useAuth ? await this.accessToken(signal) : undefined;
    let res = await attempt(token);
    if (res.status === 401 && this.tokens && token !== undefined) {
      this.tokens.invalidate(token);
      token = await this.accessToken(signal);
      res = await attempt(token);
    }
    return res;
  }

  private async accessToken(signal: AbortSignal): Promise<string | undefined> {
    const auth = this.source.auth;
    if (auth.type === 'bearer') return auth.token;
    if (this.tokens) return this.tokens.getToken(signal);
    return undefined;
  }

  private send(url: URL, token: string | undefined, signal: AbortSignal): Promise<HttpResult> {
    const headers: Record<string, string> = { accept: 'application/fhir+json' };
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    // The race lets a deadline end the wait for a slot, not only the exchange itself.
    return raceAbort(
      this.limit(async () => {
        signal.throwIfAborted();
        const res = await this.fetchFn(url, { method: 'GET', headers, signal });
        return { status: res.status, headers: res.headers, body: await readBodyCapped(this.sourceId, res, this.source.maxResponseBytes) };
      }),
      signal,
    );
  }

  /** A searchset Bundle from a 2xx answer; anything else is the source being unavailable. */
  private expectBundle(res: HttpResult): Bundle {
    if (res.status < 200 || res.status > 299) throw statusError(this.sourceId, res);
    const resource = this.parseResource(res);
    if (resource.resourceType !== 'Bundle') throw this.unexpected(resource, res.status);
    return resource as Bundle;
  }

  private parseResource(res: HttpResult): FhirResource {
    const type = res.headers.get('content-type');
    if (type !== null && !JSON_TYPES.test(type)) {
      throw new UpstreamError(this.sourceId, 'UPSTREAM_UNAVAILABLE', { status: res.status, reason: 'answer is not JSON' });
    }
    const parsed = tryParseJson(res.body);
    if (!isObject(parsed) || typeof parsed.resourceType !== 'string') {
      throw new UpstreamError(this.sourceId, 'UPSTREAM_UNAVAILABLE', { status: res.status, reason: 'malformed JSON or not a FHIR resource' });
    }
    return parsed as unknown as FhirResource;
  }

  private unexpected(resource: FhirResource, status: number): UpstreamError {
    // Some servers answer 200 with an OperationOutcome (e.g. an unknown parameter under
    // strict handling); that is a failure, not an empty result.
    return new UpstreamError(this.sourceId, 'UPSTREAM_UNAVAILABLE', {
      status,
      outcome: summariseOutcome(resource),
      reason: `expected a different resource, got ${resource.resourceType}`,
    });
  }

  private report(call: Omit<UpstreamCall, 'sourceId' | 'ms'>, started: number): void {
    if (!this.opts.onCall) return;
    const { status, ...rest } = call;
    this.opts.onCall({ sourceId: this.sourceId, ...rest, ...(status !== undefined && { status }), ms: performance.now() - started });
  }
}
