import type { PrismaClient } from '../datasources/cache/generated/client.js';
import type { PatientIndex } from '../datasources/cache/patient-index.js';
import type { SearchCache } from '../datasources/cache/search-cache.js';
import type { FhirClient } from '../datasources/fhir/fhir-client.js';
import type { PatientResources } from '../datasources/loaders.js';
import { PopulationStore } from '../datasources/population/population-store.js';
import type { PopulationSyncDeps } from './population-sync.js';

/**
 * Sync's step into the population store: the per-patient lists `--resources` just fetched
 * (or found fresh in the search cache), per type, replace those patients' facts. A patient
 * whose list failed keeps the facts it had.
 */
export async function recordPopulationFacts(
  population: PopulationStore,
  sourceId: string,
  types: readonly string[],
  patientIds: readonly string[],
  answers: readonly (readonly (PatientResources | Error)[])[],
): Promise<void> {
  for (let t = 0; t < types.length; t++) {
    const type = types[t]!;
    if (!PopulationStore.keeps(type)) continue;
    const lists = patientIds.flatMap((id, i) => {
      const a = answers[t]?.[i];
      return a && !(a instanceof Error) ? [{ sourcePatientId: id, resources: a.resources, fetchedAt: a.fetchedAt }] : [];
    });
    await population.replaceFacts(sourceId, type, lists);
  }
}

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
