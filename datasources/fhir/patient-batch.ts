import type { FhirClient } from './fhir-client.js';
import type { FhirResource, SearchParams, SourceCapabilities } from './fhir-types.js';
import { patientIdOf, patientSearchParam } from './patient-params.js';
import { escapeSearchValue } from './search-params.js';
import { attachProblems, problemsForPatient, problemsOf } from './searchset-check.js';

/** At most this many values in one OR list, whatever the URL length allows. */
export const MAX_OR_VALUES = 100;

/** Options of the batch searches. */
export interface BatchSearchOptions {
  signal?: AbortSignal;
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
  const fixed = client.searchUrl(resourceType, [[paramName, ''], ...params], capabilities).length;
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
  const capabilities = await client.getCapabilities();
  const chunks = chunkOrValues(client, resourceType, paramName, values, params, capabilities);
  return Promise.all(
    chunks.map(async (indexes) => {
      const list = indexes.map((i) => values[i]).join(',');
      try {
        const result = await client.search(resourceType, [[paramName, list], ...params], { signal: opts.signal, patients: indexes.length });
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
 * Otherwise one search per patient, all under the client's concurrency cap. Ids are
 * escaped, so an id holding `,` cannot widen the search.
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
  const capabilities = await client.getCapabilities();

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
  } else {
    await Promise.all(
      unique.map(async (id) => {
        try {
          byPatient.set(id, await client.search(resourceType, [[param, escapeSearchValue(id)], ...params], { signal: opts.signal, patients: 1 }));
        } catch (err) {
          byPatient.set(id, err instanceof Error ? err : new Error(String(err)));
        }
      }),
    );
  }
  return patientIds.map((id) => byPatient.get(id) as FhirResource[] | Error);
}

function encodedLength(value: string): number {
  return new URLSearchParams([['v', value]]).toString().length - 2;
}
