import type { Medication, MedicationRequest } from '@medplum/fhirtypes';
import type { PatientResources } from '../datasources/loaders.js';
import { referencedMedicationId } from '../datasources/population/medication-references.js';
import { PopulationStore } from '../datasources/population/population-store.js';

/** Fetches the Medications requests reference, by id; ids missing from the answer could not be fetched. */
export type MedicationResolver = (ids: readonly string[]) => Promise<ReadonlyMap<string, Medication | null>>;

/**
 * Sync's step into the population store: the per-patient lists `--resources` just fetched
 * (or found fresh in the search cache), per type, replace those patients' facts. A patient
 * whose list failed keeps the facts it had, as does one whose MedicationRequests reference
 * a Medication that could not be fetched. Returns how many such lists were left as they were.
 */
export async function recordPopulationFacts(
  population: PopulationStore,
  sourceId: string,
  types: readonly string[],
  patientIds: readonly string[],
  answers: readonly (readonly (PatientResources | Error)[])[],
  references?: { base: string; medications: MedicationResolver },
): Promise<number> {
  let kept = 0;
  for (let t = 0; t < types.length; t++) {
    const type = types[t]!;
    if (!PopulationStore.keeps(type)) continue;
    let lists = patientIds.flatMap((id, i) => {
      const a = answers[t]?.[i];
      return a && !(a instanceof Error) ? [{ sourcePatientId: id, resources: a.resources, fetchedAt: a.fetchedAt }] : [];
    });
    if (type !== 'MedicationRequest' || !references) {
      await population.replaceFacts(sourceId, type, lists);
      continue;
    }
    const medicationId = (m: MedicationRequest) => referencedMedicationId(m, references.base);
    const idsOf = (list: (typeof lists)[number]) =>
      list.resources.flatMap((r) => (r.resourceType === 'MedicationRequest' ? [medicationId(r)].filter((x): x is string => x !== undefined) : []));
    const wanted = [...new Set(lists.flatMap(idsOf))];
    const found = wanted.length > 0 ? await references.medications(wanted) : new Map<string, Medication | null>();
    const complete = lists.filter((l) => idsOf(l).every((id) => found.has(id)));
    kept += lists.length - complete.length;
    lists = complete;
    const medications = new Map([...found].filter((e): e is [string, Medication] => e[1] !== null));
    await population.replaceFacts(sourceId, type, lists, { medications, medicationId });
  }
  return kept;
}
