import type { PatientResources } from '../datasources/loaders.js';
import { PopulationStore } from '../datasources/population/population-store.js';

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
