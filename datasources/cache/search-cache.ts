import type { FhirResource } from '../fhir/fhir-types.js';

/** One patient's complete result for one search, and when it was fetched from the source. */
export interface CachedSearch {
  resources: FhirResource[];
  fetchedAt: Date;
  /** Past its TTL (only ever returned when stale entries were asked for). */
  stale: boolean;
}

/**
 * Cache of per-patient search results: "everything of this type for this source patient,
 * under this query shape". Implemented over Prisma in `prisma-search-cache.ts`.
 */
export interface SearchCache {
  /** Fresh cached results per source patient id; a patient missing from the map is a miss. */
  getMany(sourceId: string, resourceType: string, shape: string, patientIds: readonly string[]): Promise<Map<string, CachedSearch>>;
  /** Stores complete results for each patient (an empty list is a valid, cacheable answer). */
  putMany(sourceId: string, resourceType: string, shape: string, results: ReadonlyMap<string, FhirResource[]>): Promise<void>;
}
