import type { FhirSourceConfig } from '../config/config.schema.js';
import type { PrismaClient } from '../datasources/cache/generated/client.js';
import type { PatientIndex } from '../datasources/cache/patient-index.js';
import type { SearchCache } from '../datasources/cache/search-cache.js';
import type { FhirClient } from '../datasources/fhir/fhir-client.js';
import { PopulationStore } from '../datasources/population/population-store.js';
import { syncSources, type PopulationSyncDeps } from './population-sync.js';
import { summaryLine } from './sync-command.js';

/** What a running gateway shares with a sync it starts itself (the demo, tests). */
export interface GatewayPopulationParts {
  prisma: PrismaClient;
  index: PatientIndex;
  clients: ReadonlyMap<string, FhirClient>;
  searchCache?: SearchCache;
  strongIdentifierSystems: readonly string[];
}

/**
 * Sync dependencies that fill the patient index, the resource cache and the population
 * store through a running gateway's own database and clients (PGlite is one connection per
 * process, so a sync inside the gateway's process must share it).
 */
export function gatewayPopulationSyncDeps(parts: GatewayPopulationParts): PopulationSyncDeps {
  if (!parts.searchCache) throw new Error('a sync with resources needs the search cache');
  return {
    prisma: parts.prisma,
    index: parts.index,
    strongIdentifierSystems: parts.strongIdentifierSystems,
    resourceCache: { clients: parts.clients, cache: parts.searchCache, population: new PopulationStore(parts.prisma) },
  };
}

/**
 * The demo's start-up sync: indexes every patient of every source with their records,
 * through the running gateway, without holding up its start. A run where some resource
 * fetches failed (a busy machine times them out) is followed by a full one, up to
 * `passes` in all: what was fetched is fresh in the resource cache by then, so only the
 * failures go upstream again. Prints one line per source when done; an abort (shutdown)
 * stops it at the next page.
 */
export function indexPopulationInBackground(sources: readonly FhirSourceConfig[], parts: GatewayPopulationParts, signal: AbortSignal, passes = 3): void {
  const started = Date.now();
  const run = async () => {
    let results = await syncSources(sources, gatewayPopulationSyncDeps(parts), { signal });
    for (let pass = 1; pass < passes && !signal.aborted && results.some((r) => r.resourceErrors > 0); pass++) {
      results = await syncSources(sources, gatewayPopulationSyncDeps(parts), { signal, full: true });
    }
    return results;
  };
  void run()
    .then((results) => {
      const seconds = ((Date.now() - started) / 1000).toFixed(0);
      for (const r of results) console.error(`cohort index: ${summaryLine(r)} (${seconds} s)`);
    })
    .catch((err: unknown) => {
      if (!signal.aborted) console.error('cohort index: sync failed', err);
    });
}
