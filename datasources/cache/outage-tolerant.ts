import { LRUCache } from 'lru-cache';
import type { FhirResource } from '../fhir/fhir-types.js';
import type { CachedEligibility, EligibilityCache } from '../payer/eligibility-cache.js';
import { CacheUnavailableError } from '../../errors/errors.js';
import type { DatabaseHealth } from './database-health.js';
import { PatientIndex, type PendingCheck, type LinkRequest, type LinkRow, type SourcePatientKey } from './patient-index.js';
import type { PrismaClient } from './generated/client.js';
import type { CachedSearch, SearchCache } from './search-cache.js';

// The wrappers below decide what the gateway does while the cache database is unreachable:
// caches become misses (answers come from the sources), writes are skipped, and the patient
// index answers from what this process last saw of it, or with CACHE_UNAVAILABLE.

/** A search cache that turns a database outage into misses and skipped writes. */
export class OutageTolerantSearchCache implements SearchCache {
  constructor(
    private readonly inner: SearchCache,
    private readonly health: DatabaseHealth,
  ) {}

  getMany(sourceId: string, resourceType: string, shape: string, patientIds: readonly string[], opts?: { includeStale?: boolean }): Promise<Map<string, CachedSearch>> {
    return this.health.guard(() => this.inner.getMany(sourceId, resourceType, shape, patientIds, opts), new Map());
  }

  putMany(sourceId: string, resourceType: string, shape: string, results: ReadonlyMap<string, FhirResource[]>, fetchedAt?: Date): Promise<void> {
    return this.health.guard(() => this.inner.putMany(sourceId, resourceType, shape, results, fetchedAt), undefined);
  }

  expiryFor(resourceType: string, fetchedAt: Date): Date {
    return this.inner.expiryFor(resourceType, fetchedAt);
  }

  invalidate(scope: { sourceId?: string; sourcePatientIds?: readonly string[] }): Promise<number> {
    // An admin action that silently did nothing would be worse than an error.
    return this.required(() => this.inner.invalidate(scope));
  }

  private required<T>(work: () => Promise<T>): Promise<T> {
    if (this.health.down) return Promise.reject(new CacheUnavailableError());
    return this.health.required(work);
  }
}

/** An eligibility cache that turns a database outage into misses and skipped writes. */
export class OutageTolerantEligibilityCache implements EligibilityCache {
  constructor(
    private readonly inner: EligibilityCache,
    private readonly health: DatabaseHealth,
  ) {}

  getMany(keys: readonly string[]): Promise<Map<string, CachedEligibility>> {
    return this.health.guard(() => this.inner.getMany(keys), new Map());
  }

  put(key: string, payerId: string, entry: CachedEligibility): Promise<void> {
    return this.health.guard(() => this.inner.put(key, payerId, entry), undefined);
  }
}

/**
 * The patient index, kept usable through a database outage: the links of every unified
 * patient this process has opened are remembered (bounded), so `patient(id:)` and
 * `patients(ids:)` keep working for them; whatever needs the database itself (a first
 * lookup, linking, searching the index) fails at once with CACHE_UNAVAILABLE instead of
 * waiting on connection attempts.
 */
export class OutageTolerantPatientIndex extends PatientIndex {
  private readonly lastKnown = new LRUCache<string, LinkRow[]>({ max: 100_000 });

  constructor(
    prisma: PrismaClient,
    private readonly health: DatabaseHealth,
    opts: { linkCacheMs?: number } = {},
  ) {
    super(prisma, opts);
  }

  private required<T>(work: () => Promise<T>): Promise<T> {
    if (this.health.down) {
      this.health.noteUnavailable();
      return Promise.reject(new CacheUnavailableError());
    }
    return this.health.required(work);
  }

  override async linksForUnified(unifiedIds: readonly string[]): Promise<Map<string, LinkRow[]>> {
    try {
      const found = await this.required(() => super.linksForUnified(unifiedIds));
      for (const [id, rows] of found) if (rows.length > 0) this.lastKnown.set(id, rows);
      return found;
    } catch (error) {
      if (!(error instanceof CacheUnavailableError) && !this.health.down) throw error;
      // Only when every id is known: a partial answer would show a known patient as unknown.
      if (!unifiedIds.every((id) => this.lastKnown.has(id))) throw new CacheUnavailableError();
      return new Map(unifiedIds.map((id) => [id, this.lastKnown.get(id)!]));
    }
  }

  override findLinks(records: readonly SourcePatientKey[]): Promise<Map<string, LinkRow>> {
    return this.required(() => super.findLinks(records));
  }

  override linkRecords(records: readonly LinkRequest[]): Promise<string> {
    return this.required(() => super.linkRecords(records));
  }

  override exists(unifiedId: string): Promise<boolean> {
    return this.required(() => super.exists(unifiedId));
  }

  // What a read of a known patient asks besides its links: with the database gone, known
  // patients are served as they were last seen (no merge, nothing pending), not refused.
  override async pendingChecks(unifiedIds: readonly string[]): Promise<Map<string, PendingCheck[]>> {
    return this.orEmpty(() => super.pendingChecks(unifiedIds));
  }

  override async mergedInto(survivorIds: readonly string[]): Promise<Map<string, string[]>> {
    return this.orEmpty(() => super.mergedInto(survivorIds));
  }

  override async survivors(unifiedIds: readonly string[]): Promise<Map<string, string>> {
    return this.orEmpty(() => super.survivors(unifiedIds));
  }

  private async orEmpty<V>(work: () => Promise<Map<string, V>>): Promise<Map<string, V>> {
    try {
      return await this.required(work);
    } catch (error) {
      if (!(error instanceof CacheUnavailableError) && !this.health.down) throw error;
      return new Map();
    }
  }
}
