import { AsyncLocalStorage } from 'node:async_hooks';
import type { ApolloServerPlugin } from '@apollo/server';
import type { CacheLookup } from '../../datasources/loaders.js';
import type { UpstreamCall } from '../../datasources/fhir/fhir-types.js';

/** The request header that asks for an explanation (`X-Chartgraph-Explain: 1`). */
export const EXPLAIN_HEADER = 'x-chartgraph-explain';

/**
 * One line of an explanation: an upstream call, or a batch served from the search cache.
 * Carries no URL, no search values and no patient ids, only counts and outcomes.
 */
export interface ExplainEntry {
  source: string;
  /** The resource type searched or read; `CapabilityStatement` for /metadata, `''` for a token fetch. */
  resourceType: string;
  interaction: UpstreamCall['interaction'];
  /** Patients the call covered (OR-batched searches cover several; a cache hit, the patients served). */
  patients?: number;
  /** The last HTTP status the source answered with; absent for cache hits and calls that got no answer. */
  status?: number;
  outcome: UpstreamCall['outcome'];
  /** Milliseconds, to 0.1 (for a cache hit: the cache read). */
  ms: number;
  /** Search pages fetched (0 for a cache hit). */
  pages: number;
  /**
   * `hit`: served from the search cache, no upstream call. `miss`: a search the cache was asked
   * for first and could not answer. Absent: a call the cache never serves (patient lookups,
   * /metadata, tokens), or no cache is configured.
   */
  cache?: 'hit' | 'miss';
}

/** Per-source totals of an explanation. */
export interface ExplainSourceSummary {
  source: string;
  /** Upstream calls (cache hits not counted). */
  calls: number;
  /** HTTP exchanges with a Bundle or resource answer, summed over calls. */
  pages: number;
  /** Pages per resource type: what the source's own request log shows for this request. */
  pagesByResourceType: Record<string, number>;
  cacheHits: number;
  cacheMisses: number;
  /** Search-cache hits and misses (in patients) per resource type. */
  cacheByResourceType: Record<string, { hits: number; misses: number }>;
  errors: number;
}

/** What `extensions.explain` holds. */
export interface Explanation {
  /** Upstream calls made for this request (cache hits not counted). */
  calls: number;
  pages: number;
  /** Patients served from the search cache (`hits`) and fetched because it had nothing fresh (`misses`). */
  cache: { hits: number; misses: number };
  bySource: ExplainSourceSummary[];
  /** Every call and cache hit, in the order they finished. */
  list: ExplainEntry[];
}

/**
 * Collects one GraphQL request's upstream calls and cache lookups. One per request; it is
 * told of calls through {@link runWithExplainCollector}'s async scope (the FHIR clients are
 * process-wide, so a per-request observer cannot ride on them) and of cache lookups through
 * the request's loaders.
 */
export class ExplainCollector {
  private readonly entries: ExplainEntry[] = [];
  private readonly cached = new Set<string>();
  private hits = 0;
  private misses = 0;
  private readonly lookups = new Map<string, Record<string, { hits: number; misses: number }>>();

  recordCall(call: UpstreamCall): void {
    const cacheMiss = call.interaction === 'search' && this.cached.has(key(call.sourceId, call.resourceType));
    this.entries.push({
      source: call.sourceId,
      resourceType: call.resourceType,
      interaction: call.interaction,
      ...(call.patients !== undefined && { patients: call.patients }),
      ...(call.status !== undefined && { status: call.status }),
      outcome: call.outcome,
      ms: round(call.ms),
      pages: call.pages,
      ...(cacheMiss && { cache: 'miss' as const }),
    });
  }

  recordCacheLookup(lookup: CacheLookup): void {
    this.cached.add(key(lookup.sourceId, lookup.resourceType));
    this.hits += lookup.hits;
    this.misses += lookup.misses;
    let byType = this.lookups.get(lookup.sourceId);
    if (!byType) this.lookups.set(lookup.sourceId, (byType = {}));
    const counts = (byType[lookup.resourceType] ??= { hits: 0, misses: 0 });
    counts.hits += lookup.hits;
    counts.misses += lookup.misses;
    if (lookup.hits > 0) {
      this.entries.push({
        source: lookup.sourceId,
        resourceType: lookup.resourceType,
        interaction: 'search',
        patients: lookup.hits,
        outcome: 'ok',
        ms: round(lookup.ms),
        pages: 0,
        cache: 'hit',
      });
    }
  }

  /** The explanation so far. */
  explain(): Explanation {
    const sources = new Map<string, ExplainSourceSummary>();
    const summaryOf = (source: string) => {
      let s = sources.get(source);
      if (!s) {
        const cacheByResourceType = structuredClone(this.lookups.get(source) ?? {});
        const total = (k: 'hits' | 'misses') => Object.values(cacheByResourceType).reduce((n, c) => n + c[k], 0);
        s = { source, calls: 0, pages: 0, pagesByResourceType: {}, cacheHits: total('hits'), cacheMisses: total('misses'), cacheByResourceType, errors: 0 };
        sources.set(source, s);
      }
      return s;
    };
    let calls = 0;
    let pages = 0;
    for (const e of this.entries) {
      const s = summaryOf(e.source);
      if (e.cache === 'hit') continue;
      calls++;
      pages += e.pages;
      s.calls++;
      s.pages += e.pages;
      if (e.pages > 0) s.pagesByResourceType[e.resourceType] = (s.pagesByResourceType[e.resourceType] ?? 0) + e.pages;
      if (e.outcome !== 'ok') s.errors++;
    }
    for (const source of this.lookups.keys()) summaryOf(source);
    return {
      calls,
      pages,
      cache: { hits: this.hits, misses: this.misses },
      bySource: [...sources.values()].sort((a, b) => a.source.localeCompare(b.source)),
      list: [...this.entries],
    };
  }
}

const scope = new AsyncLocalStorage<ExplainCollector>();
let explaining = 0;

/**
 * Runs `fn` (one request's handling) with `collector` as the collector of every upstream call
 * made on its async path. When the last such request is done the scope is switched off: on
 * Node 20 an AsyncLocalStorage in use puts hooks on every promise of the process.
 */
export function runWithExplainCollector<T>(collector: ExplainCollector, fn: () => T): T {
  explaining++;
  const done = () => {
    if (--explaining === 0) scope.disable();
  };
  let result: T;
  try {
    result = scope.run(collector, fn);
  } catch (err) {
    done();
    throw err;
  }
  Promise.resolve(result).then(done, done);
  return result;
}

/** The collector of the request whose async path this is, if any. */
export function currentExplainCollector(): ExplainCollector | undefined {
  return explaining > 0 ? scope.getStore() : undefined;
}

/** Whether a request asked for an explanation: header `X-Chartgraph-Explain: 1` or `extensions: { explain: true }`. */
export function wantsExplain(headerValue: string | undefined | null, extensions: Record<string, unknown> | undefined): boolean {
  return headerValue?.trim() === '1' || headerValue?.trim().toLowerCase() === 'true' || extensions?.explain === true;
}

/**
 * Adds `extensions.explain` to the response of a request that asked for it, from the
 * collector of the request's async scope (Apollo clones the context value per operation,
 * so the scope, not the context object, identifies the request).
 */
export function explainPlugin<TContext extends { principal?: { role: string } }>(): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ request, response, contextValue }) {
          if (!wantsExplain(request.http?.headers.get(EXPLAIN_HEADER), request.extensions)) return;
          // Which sources were asked about a pseudonymous patient says which hospitals hold
          // them: a quasi-identifier that de-identification withholds from analysts.
          if (contextValue.principal?.role === 'analyst') return;
          const collector = currentExplainCollector();
          if (!collector || response.body.kind !== 'single') return;
          const result = response.body.singleResult;
          result.extensions = { ...result.extensions, explain: collector.explain() };
        },
      };
    },
  };
}

function key(sourceId: string, resourceType: string): string {
  return `${sourceId}\u0000${resourceType}`;
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
