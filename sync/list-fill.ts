import type { Medication } from '@medplum/fhirtypes';
import type { SearchCache } from '../datasources/cache/search-cache.js';
import type { FhirClient } from '../datasources/fhir/fhir-client.js';
import { createLoaders, type Loaders, type PatientResources } from '../datasources/loaders.js';
import type { PopulationStore } from '../datasources/population/population-store.js';
import { recordPopulationFacts } from './population-facts.js';

/** Where one source's per-patient lists go during a sync run. */
export interface ListFillContext {
  sourceId: string;
  /** The source's base URL (references under it are the source's own). */
  base: string;
  clients: ReadonlyMap<string, FhirClient>;
  cache: SearchCache;
  population?: PopulationStore;
  signal?: AbortSignal;
  /** Medications fetched in this run, by id (null: the source has none by that id); many requests share few drugs. */
  medications: Map<string, Medication | null>;
}

/** Per type, per patient: the list (fetched now or from the cache) or why it failed; and how many lists failed. */
export interface ListFillResult {
  answers: (PatientResources | Error)[][];
  errors: number;
}

/**
 * Fills the search cache with these patients' lists of each type, through the gateway's
 * loaders (batched as the source allows), and replaces their facts. With `refresh`, a
 * fresh cached copy is not served: the list is fetched again (the source said it changed).
 */
export async function fillLists(ctx: ListFillContext, types: readonly string[], patientIds: readonly string[], opts: { refresh?: boolean } = {}): Promise<ListFillResult> {
  const loaders = createLoaders({ clients: ctx.clients, cache: ctx.cache, signal: ctx.signal, refresh: opts.refresh });
  // A drug did not change because a patient's requests did: Medications are served from the cache when fresh.
  const drugLoaders = opts.refresh ? createLoaders({ clients: ctx.clients, cache: ctx.cache, signal: ctx.signal }) : loaders;
  const answers = await Promise.all(types.map((t) => loaders.resources(ctx.sourceId, t).loadMany(patientIds)));
  let errors = answers.flat().filter((a) => a instanceof Error).length;
  if (ctx.population) {
    errors += await recordPopulationFacts(ctx.population, ctx.sourceId, types, patientIds, answers, {
      base: ctx.base,
      medications: (ids) => resolveMedications(ctx, drugLoaders, ids),
    });
  }
  await Promise.all([loaders.whenIdle(), drugLoaders.whenIdle()]);
  return { answers, errors };
}

/** Medications by id: this run's memo first, then one batched fetch (through the search cache) of the rest. */
async function resolveMedications(ctx: ListFillContext, loaders: Loaders, ids: readonly string[]): Promise<Map<string, Medication | null>> {
  const missing = ids.filter((id) => !ctx.medications.has(id));
  if (missing.length > 0) {
    const found = await loaders.resourceById(ctx.sourceId, 'Medication').loadMany(missing);
    missing.forEach((id, i) => {
      const r = found[i];
      // A failed fetch is not remembered: the next list that needs it asks again.
      if (r instanceof Error) return;
      ctx.medications.set(id, r?.resourceType === 'Medication' ? (r as Medication) : null);
    });
  }
  const out = new Map<string, Medication | null>();
  for (const id of ids) if (ctx.medications.has(id)) out.set(id, ctx.medications.get(id)!);
  return out;
}
