import DataLoader from 'dataloader';
import type { EligibilitySourceConfig } from '../../config/config.schema.js';
import { UpstreamError } from '../../errors/errors.js';
import { deadlineSignal, raceAbort, toUpstreamError } from '../fhir/upstream-http.js';
import type { EligibilityClient } from './eligibility-client.js';
import { eligibilityCacheKey, expiryFor, type CachedEligibility, type EligibilityCache } from './eligibility-cache.js';
import type { EligibilityAnswer, EligibilityInquiry } from './eligibility-types.js';
import { map271 } from './map-271.js';

/** One eligibility answer as the graph serves it. */
export interface EligibilityCheck {
  payerId: string;
  inquiry: EligibilityInquiry;
  answer: EligibilityAnswer;
  fetchedAt: Date;
  /** Served from the cache after its expiry because the payer failed. */
  stale: boolean;
  /** Served from the cache (fresh or stale) without a payer call. */
  cached: boolean;
}

/** Options of {@link EligibilityService}. */
export interface EligibilityServiceOptions {
  client: EligibilityClient;
  cache?: EligibilityCache;
  now?: () => Date;
}

/**
 * Eligibility for one payer: the cache in front of the client, stale-if-error, and one
 * payer call per distinct inquiry at a time across the process (concurrent requests asking
 * the same thing share the call). Long-lived, one per payer source.
 */
export class EligibilityService {
  readonly payerId: string;
  private readonly inFlight = new Map<string, Promise<EligibilityCheck>>();
  private readonly now: () => Date;

  constructor(
    readonly source: EligibilitySourceConfig,
    private readonly opts: EligibilityServiceOptions,
  ) {
    this.payerId = source.id;
    this.now = opts.now ?? (() => new Date());
  }

  /** The cache key of an inquiry to this payer. */
  keyOf(inquiry: EligibilityInquiry): string {
    return eligibilityCacheKey(this.payerId, inquiry);
  }

  /** One inquiry; rejects with an UpstreamError when the payer fails and nothing usable is cached. */
  async check(inquiry: EligibilityInquiry, opts: { signal?: AbortSignal } = {}): Promise<EligibilityCheck> {
    const [result] = await this.checkMany([inquiry], opts);
    if (result instanceof Error) throw result;
    return result!;
  }

  /**
   * Many inquiries: one cache read for all, then a payer call per fresh miss (under the
   * client's concurrency cap), all within the payer's `deadlineMs`. Same order as given;
   * an UpstreamError in place of each inquiry that could not be answered.
   */
  async checkMany(inquiries: readonly EligibilityInquiry[], opts: { signal?: AbortSignal } = {}): Promise<(EligibilityCheck | Error)[]> {
    const signal = deadlineSignal(this.source.deadlineMs, opts.signal);
    const keys = inquiries.map((q) => this.keyOf(q));
    let cached = new Map<string, CachedEligibility>();
    if (this.opts.cache) {
      try {
        cached = await raceAbort(this.opts.cache.getMany(keys), signal);
      } catch {
        // An unreadable cache is a miss, never a failed answer.
      }
    }
    const now = this.now();
    return Promise.all(
      inquiries.map(async (inquiry, i) => {
        const key = keys[i]!;
        const hit = cached.get(key);
        if (hit && hit.expiresAt > now) return this.fromCache(inquiry, hit, false);
        try {
          const fresh = await raceAbort(this.fetchShared(key, inquiry, signal), signal);
          // "Unable to respond now" is the payer failing, politely: prefer yesterday's answer.
          if (fresh.answer.rejections.some((r) => r.transient) && this.usableStale(hit, now)) return this.fromCache(inquiry, hit!, true);
          return fresh;
        } catch (err) {
          const upstream = err instanceof UpstreamError ? err : toUpstreamError(this.payerId, err, signal);
          if (this.usableStale(hit, now)) return this.fromCache(inquiry, hit!, true);
          return upstream;
        }
      }),
    );
  }

  private usableStale(hit: CachedEligibility | undefined, now: Date): boolean {
    return !!hit && now.getTime() - hit.expiresAt.getTime() <= this.source.cache.staleIfErrorSeconds * 1000;
  }

  private fromCache(inquiry: EligibilityInquiry, hit: CachedEligibility, stale: boolean): EligibilityCheck {
    return { payerId: this.payerId, inquiry, answer: map271(hit.raw, inquiry.serviceTypeCodes), fetchedAt: hit.fetchedAt, stale, cached: true };
  }

  /** The payer call for `key`, shared with any caller already waiting on the same inquiry. */
  private fetchShared(key: string, inquiry: EligibilityInquiry, signal: AbortSignal): Promise<EligibilityCheck> {
    let p = this.inFlight.get(key);
    if (!p) {
      p = this.fetchAndStore(key, inquiry, signal).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, p);
    }
    return p;
  }

  private async fetchAndStore(key: string, inquiry: EligibilityInquiry, signal: AbortSignal): Promise<EligibilityCheck> {
    const { raw, answer } = await this.opts.client.check(inquiry, { signal });
    const fetchedAt = this.now();
    // Transient rejections (42, 80) say nothing about the member; keeping them would hide the real answer all day.
    if (this.opts.cache && !answer.rejections.some((r) => r.transient)) {
      try {
        await this.opts.cache.put(key, this.payerId, { raw, fetchedAt, expiresAt: expiryFor(fetchedAt, this.source.cache) });
      } catch {
        // A failed write costs a later payer call, not this answer.
      }
    }
    return { payerId: this.payerId, inquiry, answer, fetchedAt, stale: false, cached: false };
  }
}

/** Per-request eligibility loaders: one per payer, keyed by the inquiry's cache key. */
export interface EligibilityLoaders {
  /** Undefined for a payer id that is not configured. */
  forPayer(payerId: string): DataLoader<EligibilityInquiry, EligibilityCheck, string> | undefined;
}

/**
 * Creates the eligibility loaders of one GraphQL request: a dashboard asking 50 patients'
 * eligibility makes one cache read per payer and one payer call per distinct inquiry.
 */
export function createEligibilityLoaders(services: ReadonlyMap<string, EligibilityService> | undefined, signal?: AbortSignal): EligibilityLoaders {
  const loaders = new Map<string, DataLoader<EligibilityInquiry, EligibilityCheck, string>>();
  return {
    forPayer(payerId) {
      const service = services?.get(payerId);
      if (!service) return undefined;
      let loader = loaders.get(payerId);
      if (!loader) {
        loader = new DataLoader<EligibilityInquiry, EligibilityCheck, string>((qs) => service.checkMany(qs, { signal }), {
          cacheKeyFn: (q) => service.keyOf(q),
        });
        loaders.set(payerId, loader);
      }
      return loader;
    },
  };
}
