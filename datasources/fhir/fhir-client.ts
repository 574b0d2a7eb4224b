import { UpstreamError } from '../../errors/errors.js';
import type { FhirSourceConfig } from '../../config/config.schema.js';
import type { Bundle, FhirResource, SearchParams, SourceCapabilities, UpstreamCall } from './fhir-types.js';
import { fallbackCapabilities, readCapabilities, withLearned, type LearnedCapabilities } from './capabilities.js';
import { AdaptiveLimit, QueueTimeoutError } from './concurrency-limit.js';
import type { RequestBudget } from './request-budget.js';
import { buildSearchQuery } from './search-params.js';
import { DEFAULT_RESILIENCE, SourceResilience, type BreakerState } from './resilience.js';
import { SearchsetCheck, violationCounts } from './searchset-check.js';
import { checkReadAnswer, violationsOf } from './read-check.js';
import { SmartTokenProvider } from './smart-auth.js';
import {
  callOutcome,
  errorStatus,
  isObject,
  raceAbort,
  readBodyCapped,
  statusError,
  summariseOutcome,
  toFhirUpstreamError,
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

/** Options of one search, read or batch. */
export interface SearchOptions {
  /**
   * The caller's signal (its overall deadline, or the client going away). Each HTTP exchange
   * also has the source's own `timeoutMs`, counted from when it is sent.
   */
  signal?: AbortSignal;
  /** How many patients this search covers (OR lists), for the page guard, `_count` and metrics. */
  patients?: number;
  /**
   * The GraphQL request's budget: its deadline (used when `signal` is not given) and the
   * sources that already timed out in it (asked no more in this request).
   */
  budget?: RequestBudget;
}

/** One entry of a FHIR `batch` Bundle: a search (`Condition?patient=x`) or a read (`Patient/x`). */
export interface BatchEntry {
  kind: 'search' | 'read';
  resourceType: string;
  /** Search parameters (search), FHIR-escaped. */
  params?: SearchParams;
  /** The id (read). */
  id?: string;
  /** Patients the entry covers (search), for `_count` and the page guard. */
  patients?: number;
}

/**
 * Where no maxCount is known (neither config nor /metadata says), OR-list searches ask
 * for up to this many per page and learn the server's real cap from its reply.
 */
export const PROBE_MAX_COUNT = 1000;

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
  private readonly limit: AdaptiveLimit;
  private readonly tokens: SmartTokenProvider | undefined;
  private readonly resilience: SourceResilience;
  private readonly now: () => number;
  private capabilities: Promise<SourceCapabilities> | undefined;
  private readonly inFlight = new Map<string, { work: Promise<FhirResource[]>; controller: AbortController; waiters: number }>();
  private capabilitiesRetryAt = 0;
  /** What probes of the source learned, applied over /metadata where it was silent. */
  private readonly learned: LearnedCapabilities = {};

  constructor(
    readonly source: FhirSourceConfig,
    private readonly opts: FhirClientOptions = {},
  ) {
    this.sourceId = source.id;
    this.base = source.baseUrl.replace(/\/+$/, '');
    this.fetchFn = opts.fetch ?? fetch;
    this.now = opts.now ?? Date.now;
    this.limit = new AdaptiveLimit({ max: source.maxConcurrency, adaptive: source.adaptiveConcurrency });
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
  async getCapabilities(signal?: AbortSignal): Promise<SourceCapabilities> {
    if (!this.capabilities || this.now() >= this.capabilitiesRetryAt) {
      this.capabilitiesRetryAt = Number.POSITIVE_INFINITY;
      this.capabilities = this.fetchCapabilities();
    }
    let read: SourceCapabilities;
    try {
      // A caller's deadline ends its wait for a slow /metadata (the fetch itself goes on for the others).
      read = await raceAbort(this.capabilities, signal);
    } catch (err) {
      throw this.callerError(err, signal);
    }
    return Object.keys(this.learned).length === 0 ? read : withLearned(read, this.learned);
  }

  /** The concurrency limit now in force (adapted to the source's latency, at most `maxConcurrency`). */
  get concurrencyLimit(): number {
    return this.limit.limit;
  }

  /**
   * Records what a probe found out about the source (see `capability-probe.ts`); it is
   * applied to every capability /metadata did not speak to, for the life of this client.
   */
  learn(found: LearnedCapabilities): void {
    Object.assign(this.learned, found);
  }

  /** Whether a probe may still find out `key` (config and /metadata were silent, probing allowed, nothing learned yet). */
  async mayProbe(key: keyof LearnedCapabilities): Promise<boolean> {
    if (this.source.capabilities.probe === false || this.learned[key] !== undefined) return false;
    const caps = await this.getCapabilities();
    return caps.origins[key] === 'DEFAULT';
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
      const upstream = toFhirUpstreamError(this.sourceId, err, signal);
      this.report(
        { resourceType: 'CapabilityStatement', interaction: 'metadata', pages: 0, status: status ?? errorStatus(upstream), outcome: callOutcome(upstream) },
        started,
      );
      this.capabilitiesRetryAt = this.now() + (this.opts.capabilitiesRetryMs ?? 30_000);
      return fallbackCapabilities(this.source);
    }
  }

  /**
   * The first-page URL of a search, as {@link search} sends it: `[base]/[type]?params&_count=n`.
   * Any `_count` in `params` is replaced. Exposed so that OR-list batching can cut chunks
   * against the real URL length.
   */
  searchUrl(resourceType: string, params: SearchParams, capabilities: SourceCapabilities, patients = 1): string {
    return `${this.base}/${this.searchPath(resourceType, params, capabilities, patients)}`;
  }

  /**
   * `_count` for a search over `patients` patients: the page size per patient, so that an OR
   * chunk needs about as few pages as one patient's search, capped by the largest the source
   * allows. Where that cap is unknown, up to {@link PROBE_MAX_COUNT}: the reply shows the real cap.
   */
  pageCount(capabilities: SourceCapabilities, patients = 1): number {
    const want = this.source.pageSize * Math.max(1, patients);
    const cap = capabilities.origins.maxCount === 'DEFAULT' && patients > 1 && this.source.capabilities.probe !== false ? PROBE_MAX_COUNT : capabilities.maxCount;
    return Math.max(1, Math.min(want, cap));
  }

  private searchPath(resourceType: string, params: SearchParams, capabilities: SourceCapabilities, patients = 1): string {
    const count = this.pageCount(capabilities, patients);
    const query = buildSearchQuery([...params.filter(([name]) => name !== '_count'), ['_count', String(count)]]);
    return `${resourceType}?${query}`;
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
    const signal = opts.signal ?? opts.budget?.signal;
    opts.budget?.check(this.sourceId);
    // Single flight: identical searches in flight at once (two dashboards opening together)
    // share one upstream search. The shared search runs under the source's own timeouts,
    // not the first caller's deadline, so one caller leaving does not fail the others.
    const key = `${resourceType}?${buildSearchQuery(params)}\u0000${opts.patients ?? 1}`;
    const running = this.inFlight.get(key);
    let shared = running;
    if (!shared) {
      // Cancelled only when every caller waiting on it has left (their deadlines passed).
      const controller = new AbortController();
      const work = this.searchUpstream(resourceType, params, { patients: opts.patients, signal: controller.signal });
      shared = { work, controller, waiters: 0 };
      this.inFlight.set(key, shared);
      const done = () => this.inFlight.delete(key);
      void work.then(done, done);
    }
    const entry = shared;
    entry.waiters++;
    const started = performance.now();
    try {
      const results = await raceAbort(entry.work, signal);
      if (running) {
        this.report({ resourceType, interaction: 'search', pages: 0, outcome: 'ok', shared: true, ...(opts.patients !== undefined && { patients: opts.patients }) }, started);
      }
      return results;
    } catch (err) {
      const upstream = this.callerError(err, signal);
      opts.budget?.record(upstream);
      throw upstream;
    } finally {
      if (--entry.waiters === 0 && signal?.aborted) entry.controller.abort();
    }
  }

  /** The error a caller sees: its own deadline or cancellation is REQUEST_DEADLINE, never the source's fault. */
  private callerError(err: unknown, signal: AbortSignal | undefined): UpstreamError {
    if (err instanceof UpstreamError) return err;
    if (signal?.aborted) return new UpstreamError(this.sourceId, 'UPSTREAM_TIMEOUT', { timeout: 'REQUEST_DEADLINE', reason: 'request deadline or cancellation' });
    return toFhirUpstreamError(this.sourceId, err, signal);
  }

  private async searchUpstream(resourceType: string, params: SearchParams, opts: { patients?: number; signal?: AbortSignal }): Promise<FhirResource[]> {
    const started = performance.now();
    const { signal } = opts;
    const patients = Math.max(1, opts.patients ?? 1);
    let pages = 0;
    let status: number | undefined;
    const stats: CallStats = { retries: 0 };
    const base = { resourceType, interaction: 'search' as const, ...(opts.patients !== undefined && { patients: opts.patients }) };
    try {
      const capabilities = await raceAbort(this.getCapabilities(), signal);
      const check = new SearchsetCheck(resourceType, params, this.base, { structure: this.opts.validate ?? true });
      let count = this.pageCount(capabilities, patients);
      let url = new URL(this.searchUrl(resourceType, params, capabilities, patients));
      check.visit(url);
      let res = await this.exchange(url, signal, { stats });
      if (res.status === 400 && count > capabilities.maxCount && capabilities.origins.maxCount === 'DEFAULT') {
        // An oversized `_count` refused outright: the cap is no more than the page size; ask again at that.
        this.learn({ maxCount: capabilities.maxCount });
        count = capabilities.maxCount;
        url = new URL(this.searchUrl(resourceType, params, withLearned(capabilities, this.learned), patients));
        check.visit(url);
        res = await this.exchange(url, signal, { stats });
      }
      status = res.status;
      const first = this.expectBundle(res);
      pages = 1;
      this.learnMaxCount(first, count, capabilities);
      const results = await this.collectPages(first, check, { signal, stats, patients, onPage: () => pages++ });
      const violations = violationCounts(check.problems);
      this.report({ ...base, pages, status, outcome: violations.length ? 'invalid' : 'ok', retries: stats.retries, ...(violations.length && { violations }) }, started);
      return results;
    } catch (err) {
      const upstream = toFhirUpstreamError(this.sourceId, err, signal);
      this.report({ ...base, pages, status: status ?? errorStatus(upstream), outcome: callOutcome(upstream), retries: stats.retries, ...(upstream.notSourceFault && { notSourceFault: true }) }, started);
      throw upstream;
    }
  }

  /**
   * Where the largest `_count` is unknown: a first page with fewer entries than asked while
   * a next page exists shows the server's cap; a full page shows it allows at least that much.
   */
  private learnMaxCount(first: Bundle, asked: number, capabilities: SourceCapabilities): void {
    if (capabilities.origins.maxCount !== 'DEFAULT' || this.source.capabilities.probe === false || asked <= capabilities.maxCount) return;
    const got = (first.entry ?? []).length;
    const hasNext = first.link?.some((l) => l.relation === 'next') ?? false;
    if (hasNext && got > 0 && got < asked) this.learn({ maxCount: got });
    else if (got === asked) this.learn({ maxCount: asked });
  }

  /**
   * The matches of a searchset Bundle and of every page after it, following
   * `Bundle.link[rel=next]` exactly as given, within the page guard.
   */
  private async collectPages(
    first: Bundle,
    check: SearchsetCheck,
    opts: { signal?: AbortSignal; stats: CallStats; patients: number; onPage: () => void },
  ): Promise<FhirResource[]> {
    const maxPages = (this.opts.maxPagesPerPatient ?? DEFAULT_MAX_PAGES_PER_PATIENT) * opts.patients;
    let bundle = first;
    let pages = 1;
    for (;;) {
      check.takePage(bundle);
      // The check refuses off-origin links, loops and too many pages, keeping what came before.
      const url = check.nextUrl(bundle, pages, maxPages);
      if (!url) return check.finish();
      check.visit(url);
      bundle = this.expectBundle(await this.exchange(url, opts.signal, { stats: opts.stats }));
      pages++;
      opts.onPage();
    }
  }

  /**
   * Sends one FHIR `batch` Bundle of GET entries (POSTed to the base URL) and answers per
   * entry, in order: a search's matches with every `next` page of its searchset followed as
   * given, a read's resource as a one-item list (empty on 404/410), or the entry's Error.
   * The whole exchange failing fails every entry with the same error.
   */
  async batch(entries: readonly BatchEntry[], opts: SearchOptions = {}): Promise<(FhirResource[] | Error)[]> {
    const signal = opts.signal ?? opts.budget?.signal;
    const started = performance.now();
    const stats: CallStats = { retries: 0 };
    let status: number | undefined;
    let pages = 0;
    const patients = entries.reduce((n, e) => n + (e.patients ?? 1), 0);
    const base = { resourceType: entries[0]?.resourceType ?? '', interaction: 'batch' as const, patients, entries: entries.length };
    try {
      opts.budget?.check(this.sourceId);
      const capabilities = await raceAbort(this.getCapabilities(), signal);
      const bundle = {
        resourceType: 'Bundle',
        type: 'batch',
        entry: entries.map((e) => ({
          request: {
            method: 'GET',
            url: e.kind === 'read' ? `${e.resourceType}/${e.id}` : this.searchPath(e.resourceType, e.params ?? [], capabilities, e.patients ?? 1),
          },
        })),
      };
      const res = await this.exchange(new URL(`${this.base}/`), signal, { stats, method: 'POST', body: JSON.stringify(bundle) });
      status = res.status;
      if (res.status < 200 || res.status > 299) throw statusError(this.sourceId, res);
      const reply = this.parseResource(res) as Bundle;
      if (reply.resourceType !== 'Bundle' || reply.type !== 'batch-response' || (reply.entry ?? []).length !== entries.length) {
        throw new UpstreamError(this.sourceId, 'UPSTREAM_UNAVAILABLE', { status, reason: 'batch answer is not a batch-response with one entry per request' });
      }
      pages = 1;
      const answers = await Promise.all(
        reply.entry!.map(async (entry, i): Promise<FhirResource[] | Error> => {
          const asked = entries[i]!;
          try {
            const entryStatus = Number(/^\s*(\d{3})/.exec(entry.response?.status ?? '')?.[1] ?? 0);
            if (asked.kind === 'read' && (entryStatus === 404 || entryStatus === 410)) return [];
            if (entryStatus < 200 || entryStatus > 299) {
              if (entryStatus === 429) return new UpstreamError(this.sourceId, 'UPSTREAM_RATE_LIMITED', { status: 429 });
              return new UpstreamError(this.sourceId, 'UPSTREAM_UNAVAILABLE', {
                ...(entryStatus > 0 && { status: entryStatus }),
                outcome: summariseOutcome(entry.response?.outcome ?? entry.resource),
                reason: `batch entry HTTP ${entryStatus || 'status missing'}`,
              });
            }
            const resource = entry.resource;
            if (!resource) return new UpstreamError(this.sourceId, 'UPSTREAM_UNAVAILABLE', { status: entryStatus, reason: 'batch entry without a resource' });
            if (asked.kind === 'read') return resource.resourceType === asked.resourceType ? [resource] : this.unexpected(resource, entryStatus);
            if (resource.resourceType !== 'Bundle') return this.unexpected(resource, entryStatus);
            const check = new SearchsetCheck(asked.resourceType, asked.params ?? [], this.base, { structure: this.opts.validate ?? true });
            return await this.collectPages(resource as Bundle, check, { signal, stats, patients: Math.max(1, asked.patients ?? 1), onPage: () => pages++ });
          } catch (err) {
            return toFhirUpstreamError(this.sourceId, err, signal);
          }
        }),
      );
      const failed = answers.find((a): a is UpstreamError => a instanceof UpstreamError && !a.notSourceFault);
      this.report({ ...base, pages, status, outcome: failed ? callOutcome(failed) : 'ok', retries: stats.retries }, started);
      return answers;
    } catch (err) {
      const upstream = this.callerError(err, signal);
      opts.budget?.record(upstream);
      this.report({ ...base, pages, status: status ?? errorStatus(upstream), outcome: callOutcome(upstream), retries: stats.retries, ...(upstream.notSourceFault && { notSourceFault: true }) }, started);
      return entries.map(() => upstream);
    }
  }

  /**
   * A search sent as is, for probes: the whole first page, no paging, no single flight and
   * no learning. Reported as interaction `probe`.
   */
  async probeSearch(resourceType: string, params: SearchParams, opts: SearchOptions = {}): Promise<{ status: number; bundle?: Bundle }> {
    const signal = opts.signal ?? opts.budget?.signal;
    const started = performance.now();
    const res = await this.exchange(new URL(`${this.base}/${resourceType}?${buildSearchQuery(params)}`), signal, {}).catch((err: unknown) => {
      const upstream = this.callerError(err, signal);
      this.report({ resourceType, interaction: 'probe', pages: 0, status: errorStatus(upstream), outcome: callOutcome(upstream), notSourceFault: true }, started);
      throw upstream;
    });
    let bundle: Bundle | undefined;
    try {
      bundle = this.expectBundle(res);
    } catch {
      bundle = undefined;
    }
    // A refused probe is an answer, not a source failure.
    this.report({ resourceType, interaction: 'probe', pages: 1, status: res.status, outcome: 'ok' }, started);
    return { status: res.status, ...(bundle && { bundle }) };
  }

  /** Sends a `batch` Bundle as a probe: the status and the parsed answer, nothing else. */
  async probeBatch(entries: readonly string[], opts: SearchOptions = {}): Promise<{ status: number; bundle?: Bundle }> {
    const signal = opts.signal ?? opts.budget?.signal;
    const started = performance.now();
    const body = JSON.stringify({ resourceType: 'Bundle', type: 'batch', entry: entries.map((url) => ({ request: { method: 'GET', url } })) });
    const res = await this.exchange(new URL(`${this.base}/`), signal, { method: 'POST', body }).catch((err: unknown) => {
      const upstream = this.callerError(err, signal);
      this.report({ resourceType: 'Bundle', interaction: 'probe', pages: 0, status: errorStatus(upstream), outcome: callOutcome(upstream), notSourceFault: true }, started);
      throw upstream;
    });
    let bundle: Bundle | undefined;
    try {
      bundle = this.expectBundle(res);
    } catch {
      bundle = undefined;
    }
    this.report({ resourceType: 'Bundle', interaction: 'probe', pages: 1, status: res.status, outcome: 'ok' }, started);
    return { status: res.status, ...(bundle && { bundle }) };
  }

  /** Reads one resource; null when the server says 404 or 410, or the id cannot be a FHIR id. */
  async read(resourceType: string, id: string, opts: SearchOptions = {}): Promise<FhirResource | null> {
    // An id like `..` would walk the URL out of the resource type; no FHIR id looks like that.
    if (!FHIR_ID.test(id)) return null;
    opts.budget?.check(this.sourceId);
    const started = performance.now();
    const signal = opts.signal ?? opts.budget?.signal;
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
      const upstream = this.callerError(err, signal);
      opts.budget?.record(upstream);
      const violations = violationsOf(upstream);
      this.report(
        {
          resourceType,
          interaction: 'read',
          pages: 0,
          status: status ?? errorStatus(upstream),
          outcome: callOutcome(upstream),
          patients: 1,
          retries: stats.retries,
          ...(upstream.notSourceFault && { notSourceFault: true }),
          ...(violations.length && { violations }),
        },
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
  private async exchange(
    url: URL,
    signal: AbortSignal | undefined,
    opts: { auth?: boolean; stats?: CallStats; method?: 'GET' | 'POST'; body?: string } = {},
  ): Promise<HttpResult> {
    const useAuth = opts.auth ?? true;
    const attempt = (token: string | undefined) =>
      this.resilience.run(() => this.send(url, token, signal, opts), signal, () => {
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

  private async accessToken(signal: AbortSignal | undefined): Promise<string | undefined> {
    const auth = this.source.auth;
    if (auth.type === 'bearer') return auth.token;
    if (this.tokens) return this.tokens.getToken(signal);
    return undefined;
  }

  /**
   * One HTTP exchange under a concurrency slot. Three clocks, each with its own error:
   * the wait for a slot (`queueTimeoutMs`, UPSTREAM_TIMEOUT reason QUEUE), the exchange
   * itself (`timeoutMs` from sending: a plain TimeoutError, which the breaker counts), and
   * the caller's signal (REQUEST_DEADLINE). Only the second says anything about the source.
   */
  private async send(url: URL, token: string | undefined, signal: AbortSignal | undefined, opts: { method?: 'GET' | 'POST'; body?: string }): Promise<HttpResult> {
    const headers: Record<string, string> = { accept: 'application/fhir+json' };
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/fhir+json';
    let release: () => void;
    try {
      release = await this.limit.acquire(signal, this.source.queueTimeoutMs);
    } catch (err) {
      if (err instanceof QueueTimeoutError) {
        throw new UpstreamError(this.sourceId, 'UPSTREAM_TIMEOUT', { timeout: 'QUEUE', reason: err.message });
      }
      throw new UpstreamError(this.sourceId, 'UPSTREAM_TIMEOUT', { timeout: 'REQUEST_DEADLINE', reason: 'request deadline or cancellation while queued' });
    }
    const inFlight = this.limit.active;
    const timeout = AbortSignal.timeout(this.source.timeoutMs);
    const sent = performance.now();
    try {
      const res = await this.fetchFn(url, { method: opts.method ?? 'GET', headers, body: opts.body, signal: signal ? AbortSignal.any([timeout, signal]) : timeout });
      const body = await readBodyCapped(this.sourceId, res, this.source.maxResponseBytes);
      this.limit.observe(performance.now() - sent, res.status >= 500, inFlight);
      return { status: res.status, headers: res.headers, body };
    } catch (err) {
      if (signal?.aborted) {
        throw new UpstreamError(this.sourceId, 'UPSTREAM_TIMEOUT', { timeout: 'REQUEST_DEADLINE', reason: 'request deadline or cancellation' });
      }
      if (!(err instanceof UpstreamError)) this.limit.observe(performance.now() - sent, true, inFlight);
      throw err;
    } finally {
      release();
    }
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
