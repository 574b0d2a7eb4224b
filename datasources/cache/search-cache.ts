import type { FhirResource } from '../fhir/fhir-types.js';

/**
 * Cache of per-patient search results: "everything of this type for this source patient,
 * under this query shape". Implemented over Prisma in `prisma-search-cache.ts`.
 */
export interface SearchCache {
  /** Fresh cached results per source patient id; a patient missing from the map is a miss. */
  getMany(sourceId: string, resourceType: string, shape: string, patientIds: readonly string[]): Promise<Map<string, FhirResource[]>>;
  /** Stores complete results for each patient (an empty list is a valid, cacheable answer). */
  putMany(sourceId: string, resourceType: string, shape: string, results: ReadonlyMap<string, FhirResource[]>): Promise<void>;
}
