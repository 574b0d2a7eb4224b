import type { FhirResource } from '../fhir/fhir-types.js';

/** One patient's complete result for one search, and when it was fetched from the source. */
export interface CachedSearch {
  resources: FhirResource[];
  fetchedAt: Date;
  /** Past its TTL (only ever returned when stale entries were asked for). */
  stale: boolean;
  /** When the TTL ran or runs out. */
  expiresAt: Date;
}

/**
 * Cache of per-patient search results: "everything of this type for this source patient,
 * under this query shape". Implemented over Prisma in `prisma-search-cache.ts`.
 */
export interface SearchCache {
  /** Cached results per source patient id (fresh only, unless `includeStale`); a patient missing from the map is a miss. */
  getMany(
    sourceId: string,
    resourceType: string,
    shape: string,
    patientIds: readonly string[],
    opts?: { includeStale?: boolean },
  ): Promise<Map<string, CachedSearch>>;
  /** When a result fetched at `fetchedAt` stops being fresh (its type's TTL). */
  expiryFor(resourceType: string, fetchedAt: Date): Date;
  /** Forgets what is cached for one source, some source patients, or both; returns how many searches went. */
  invalidate(scope: { sourceId?: string; sourcePatientIds?: readonly string[] }): Promise<number>;
  /**
   * Stores complete results for each patient (an empty list is a valid, cacheable answer),
   * fetched at `fetchedAt` (default now), which starts their TTL.
   */
  putMany(sourceId: string, resourceType: string, shape: string, results: ReadonlyMap<string, FhirResource[]>, fetchedAt?: Date): Promise<void>;
}
