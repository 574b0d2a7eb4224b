import { LRUCache } from 'lru-cache';
import type { FhirResource } from '../fhir/fhir-types.js';
import type { CachedSearch, SearchCache } from './search-cache.js';

export interface MemoryTierOptions {
  /** Upper bound on resources held in memory across all entries (each entry weighs its resource count + 1). */
  maxResources: number;
}

const keyOf = (sourceId: string, resourceType: string, shape: string, patientId: string) =>
  `${sourceId}\u0000${resourceType}\u0000${shape}\u0000${patientId}`;

/**
 * An in-process LRU tier in front of the database cache. A repeat question is answered
 * from memory, without reading and parsing every cached body again; the database stays
 * the shared copy between replicas and across restarts. Entries keep their fetch and
 * expiry times, so TTL, stale-while-revalidate and stale-if-error behave exactly as with
 * the database alone. An invalidation clears this replica's memory at once; other
 * replicas' memory follows within their TTL.
 */
export class TieredSearchCache implements SearchCache {
  private readonly memory: LRUCache<string, CachedSearch>;

  constructor(
    private readonly shared: SearchCache,
    options: MemoryTierOptions,
  ) {
    this.memory = new LRUCache<string, CachedSearch>({
      maxSize: options.maxResources,
      sizeCalculation: (entry) => entry.resources.length + 1,
    });
  }

  async getMany(
    sourceId: string,
    resourceType: string,
    shape: string,
    patientIds: readonly string[],
    opts: { includeStale?: boolean } = {},
  ): Promise<Map<string, CachedSearch>> {
    const found = new Map<string, CachedSearch>();
    const missing: string[] = [];
    const now = Date.now();
    for (const id of patientIds) {
      const entry = this.memory.get(keyOf(sourceId, resourceType, shape, id));
      const stale = entry ? entry.expiresAt.getTime() <= now : false;
      if (entry && (!stale || opts.includeStale)) found.set(id, stale === entry.stale ? entry : { ...entry, stale });
      else missing.push(id);
    }
    if (missing.length > 0) {
      const fromShared = await this.shared.getMany(sourceId, resourceType, shape, missing, opts);
      for (const [id, entry] of fromShared) {
        found.set(id, entry);
        this.memory.set(keyOf(sourceId, resourceType, shape, id), entry);
      }
    }
    return found;
  }

  async putMany(sourceId: string, resourceType: string, shape: string, results: ReadonlyMap<string, FhirResource[]>, fetchedAt = new Date()): Promise<void> {
    const expiresAt = this.shared.expiryFor(resourceType, fetchedAt);
    for (const [id, resources] of results) {
      this.memory.set(keyOf(sourceId, resourceType, shape, id), { resources, fetchedAt, expiresAt, stale: false });
    }
    await this.shared.putMany(sourceId, resourceType, shape, results, fetchedAt);
  }

  expiryFor(resourceType: string, fetchedAt: Date): Date {
    return this.shared.expiryFor(resourceType, fetchedAt);
  }

  async invalidate(scope: { sourceId?: string; sourcePatientIds?: readonly string[] }): Promise<number> {
    const patients = scope.sourcePatientIds && new Set(scope.sourcePatientIds);
    for (const key of [...this.memory.keys()]) {
      const [sourceId, , , patientId] = key.split('\u0000');
      if ((scope.sourceId === undefined || sourceId === scope.sourceId) && (!patients || patients.has(patientId!))) this.memory.delete(key);
    }
    return this.shared.invalidate(scope);
  }
}
