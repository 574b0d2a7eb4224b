import { probeBatch, probeOrSearch } from './capability-probe.js';
import type { BatchEntry, FhirClient } from './fhir-client.js';
import type { FhirResource, SearchParams, SourceCapabilities } from './fhir-types.js';
import type { RequestBudget } from './request-budget.js';
import { patientIdOf, patientSearchParam } from './patient-params.js';
import { escapeSearchValue } from './search-params.js';
import { attachProblems, problemsForPatient, problemsOf } from './searchset-check.js';

/** At most this many values in one OR list, whatever the URL length allows. */
export const MAX_OR_VALUES = 100;

/** Options of the batch searches. */
export interface BatchSearchOptions {
  signal?: AbortSignal;
  /** The GraphQL request's deadline and memory of timed-out sources. */
  budget?: RequestBudget;
}

/** One OR-list search: the values it covered and what came back. */
export interface OrChunkResult {
  /** Indexes into the `values` passed to {@link searchOrList}. */
  indexes: number[];
  result: FhirResource[] | Error;
}

/**
 * Cuts OR-list values into chunks so that each first-page URL, exactly as the client will
 * send it, stays at or under the source's `maxUrlLength`, with at most {@link MAX_OR_VALUES}
 * values each. A single value that alone is too long still gets a chunk of its own (the
 * server may refuse it; nothing shorter can be sent). `values` must be FHIR-escaped.
 * Returns index lists into `values`.
 */
export function chunkOrValues(
  client: FhirClient,
  resourceType: string,
  paramName: string,
  values: readonly string[],
  params: SearchParams,
  capabilities: SourceCapabilities,
): number[][] {
  const limit = client.source.maxUrlLength;
  // With the longest `_count` a chunk may carry, so that no chunk's real URL is longer.
  const fixed = client.searchUrl(resourceType, [[paramName, ''], ...params], capabilities, MAX_OR_VALUES).length;
  // URLSearchParams writes `,` as `%2C`.
  const separator = encodedLength(',');
  const chunks: number[][] = [];
  let current: number[] = [];
  let length = fixed;
  values.forEach((value, i) => {
    const add = encodedLength(value) + (current.length > 0 ? separator : 0);
    if (current.length > 0 && (length + add > limit || current.length >= MAX_OR_VALUES)) {
      chunks.push(current);
      current = [];
      length = fixed;
    }
    length += encodedLength(value) + (current.length > 0 ? separator : 0);
    current.push(i);
  });
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * Runs one search per chunk of an OR list (`paramName=v1,v2,...`); chunks run together
 * under the client's concurrency cap. `values` must be FHIR-escaped.
 */
export async function searchOrList(
  client: FhirClient,
  resourceType: string,
  paramName: string,
  values: readonly string[],
  params: SearchParams,
  opts: BatchSearchOptions = {},
): Promise<OrChunkResult[]> {
  const capabilities = await client.getCapabilities(opts.signal ?? opts.budget?.signal);
  const chunks = chunkOrValues(client, resourceType, paramName, values, params, capabilities);
  return Promise.all(
    chunks.map(async (indexes) => {
      const list = indexes.map((i) => values[i]).join(',');
      try {
        const result = await client.search(resourceType, [[paramName, list], ...params], { signal: opts.signal, budget: opts.budget, patients: indexes.length });
        return { indexes, result };
      } catch (err) {
        return { indexes, result: err instanceof Error ? err : new Error(String(err)) };
      }
    }),
  );
}

/**
 * Searches `resourceType` for many source patients at once and answers per patient id,
 * in the order given (the DataLoader batch contract: same length, an Error for each id
 * whose upstream call failed).
 *
 * Where the source accepts OR lists (`patientOrSearch`), one search per chunk of ids
 * (see {@link chunkOrValues}) and the results are handed back to patients by each
 * resource's patient reference (the client has already set aside, and reported, resources
 * that point at none of the ids).
 * Otherwise, where it accepts FHIR `batch`, the per-patient searches go in batch Bundles
 * of up to `maxBatchEntries`, run together under the concurrency cap; else one search per
 * patient, all under the cap. Where /metadata is silent on OR lists or `batch`, the first
 * multi-patient call probes the source (see `capability-probe.ts`). Ids are escaped, so an
 * id holding `,` cannot widen the search.
 */
export async function searchForPatients(
  client: FhirClient,
  resourceType: string,
  patientIds: readonly string[],
  params: SearchParams,
  opts: BatchSearchOptions = {},
): Promise<(FhirResource[] | Error)[]> {
  const unique = [...new Set(patientIds)];
  const param = patientSearchParam(resourceType);
  const byPatient = new Map<string, FhirResource[] | Error>();
  const signal = opts.signal ?? opts.budget?.signal;
  let capabilities: SourceCapabilities;
  try {
    opts.budget?.check(client.sourceId);
    capabilities = await client.getCapabilities(signal);
  } catch (err) {
    return patientIds.map(() => (err instanceof Error ? err : new Error(String(err))));
  }
  if (unique.length > 1 && !capabilities.patientOrSearch && capabilities.origins.patientOrSearch === 'DEFAULT') {
    await probeOrSearch(client, resourceType, unique, opts);
    capabilities = await client.getCapabilities();
  }
  if (unique.length > 1 && !capabilities.patientOrSearch && !capabilities.batch && capabilities.origins.batch === 'DEFAULT') {
    await probeBatch(client, resourceType, unique[0]!, opts);
    capabilities = await client.getCapabilities();
  }

  if (capabilities.patientOrSearch && unique.length > 1) {
    const chunks = await searchOrList(client, resourceType, param, unique.map(escapeSearchValue), params, opts);
    for (const { indexes, result } of chunks) {
      const ids = indexes.map((i) => unique[i]);
      if (result instanceof Error) {
        for (const id of ids) byPatient.set(id, result);
        continue;
      }
      const lists = new Map<string, FhirResource[]>(ids.map((id) => [id, []]));
      for (const resource of result) {
        const owner = patientIdOf(resource);
        if (owner !== undefined) lists.get(owner)?.push(resource);
      }
      // What the source set aside stays with the patients it may concern (see problemsForPatient).
      const problems = problemsOf(result);
      for (const [id, list] of lists) {
        attachProblems(list, problemsForPatient(problems, id));
        byPatient.set(id, list);
      }
    }
  } else if (capabilities.batch && unique.length > 1) {
    const answers = await batchInChunks(
      client,
      unique.map((id) => ({ kind: 'search', resourceType, params: [[param, escapeSearchValue(id)], ...params], patients: 1 })),
      opts,
    );
    unique.forEach((id, i) => byPatient.set(id, answers[i]!));
  } else {
    await Promise.all(
      unique.map(async (id) => {
        try {
          byPatient.set(id, await client.search(resourceType, [[param, escapeSearchValue(id)], ...params], { signal: opts.signal, budget: opts.budget, patients: 1 }));
        } catch (err) {
          byPatient.set(id, err instanceof Error ? err : new Error(String(err)));
        }
      }),
    );
  }
  return patientIds.map((id) => byPatient.get(id) as FhirResource[] | Error);
}

/**
 * Sends `entries` as FHIR `batch` Bundles of at most the source's `maxBatchEntries`, all
 * at once under the client's concurrency cap; answers per entry, in order.
 */
export async function batchInChunks(client: FhirClient, entries: readonly BatchEntry[], opts: BatchSearchOptions = {}): Promise<(FhirResource[] | Error)[]> {
  const size = client.source.maxBatchEntries;
  const chunks: BatchEntry[][] = [];
  for (let i = 0; i < entries.length; i += size) chunks.push(entries.slice(i, i + size));
  const answers = await Promise.all(chunks.map((chunk) => client.batch(chunk, { signal: opts.signal, budget: opts.budget })));
  return answers.flat();
}

function encodedLength(value: string): number {
  return new URLSearchParams([['v', value]]).toString().length - 2;
}
