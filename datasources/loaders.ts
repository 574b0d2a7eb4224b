import DataLoader from 'dataloader';
import type { CachedSearch, SearchCache } from './cache/search-cache.js';
import type { FhirClient } from './fhir/fhir-client.js';
import type { FhirResource, Identifier, Patient, SearchParams } from './fhir/fhir-types.js';
import { searchForPatients, searchOrList } from './fhir/patient-batch.js';
import { escapeSearchValue, parseToken, shapeKey } from './fhir/search-params.js';

/** What {@link createLoaders} needs: the long-lived clients per source id, and the search cache if there is one. */
export interface LoaderDeps {
  clients: ReadonlyMap<string, FhirClient>;
  cache?: SearchCache;
  /** The GraphQL request's signal: aborts its upstream searches when the client goes away. */
  signal?: AbortSignal;
}

/** One patient's resources of one search, with when they were fetched (now, or from the cache). */
export type PatientResources = CachedSearch;

/**
 * The per-request DataLoaders. Create one set per GraphQL request (never share across
 * requests: DataLoader memoises results, and one user's answers must not leak to another).
 */
export interface Loaders {
  /**
   * Everything of `resourceType` per source patient id under one query shape. One loader
   * per (source, type, shape of `params`): the same shape asked from two resolvers shares
   * one loader and so one upstream call. `params` values must be FHIR-escaped
   * (see `tokenParam`, `escapeSearchValue`).
   */
  resources(sourceId: string, resourceType: string, params?: SearchParams): DataLoader<string, PatientResources>;
  /**
   * Patients by identifier token `system|value`, built with `tokenParam(system, value)` so
   * that its parts are escaped. OR-batched (`identifier=a,b`) where the source allows it.
   */
  patientsByIdentifier(sourceId: string): DataLoader<string, Patient[]>;
  /** Patients by source id; `_id=a,b,c` where the source allows OR lists, else one read each. Null when unknown. */
  patientById(sourceId: string): DataLoader<string, Patient | null>;
  /** Settles when the search-cache writes started by this request have finished (or failed). */
  whenIdle(): Promise<void>;
}

/**
 * Creates the DataLoaders for one GraphQL request. All state (the loaders, their
 * memo, pending cache writes) hangs off the returned object.
 */
export function createLoaders(deps: LoaderDeps): Loaders {
  const { cache, signal } = deps;
  const loaders = new Map<string, DataLoader<string, unknown>>();
  const pendingWrites = new Set<Promise<void>>();

  function clientFor(sourceId: string): FhirClient {
    const client = deps.clients.get(sourceId);
    if (!client) throw new Error(`Unknown FHIR source id "${sourceId}"; configured: ${[...deps.clients.keys()].join(', ') || 'none'}`);
    return client;
  }

  function memo<V>(key: string, make: () => DataLoader<string, V>): DataLoader<string, V> {
    let loader = loaders.get(key) as DataLoader<string, V> | undefined;
    if (!loader) {
      loader = make();
      loaders.set(key, loader as DataLoader<string, unknown>);
    }
    return loader;
  }

  function writeBack(sourceId: string, resourceType: string, shape: string, results: Map<string, FhirResource[]>): void {
    if (!cache || results.size === 0) return;
    // A failed cache write costs a future cache miss, never this answer; it is not awaited
    // so the response does not wait on the database.
    const write = Promise.resolve()
      .then(() => cache.putMany(sourceId, resourceType, shape, results))
      .catch(() => undefined)
      .finally(() => pendingWrites.delete(write));
    pendingWrites.add(write);
  }

  return {
    resources(sourceId, resourceType, params = []) {
      const client = clientFor(sourceId);
      const shape = shapeKey(params);
      return memo(`resources\u0000${sourceId}\u0000${resourceType}\u0000${shape}`, () =>
        new DataLoader<string, PatientResources>(async (patientIds) => {
          let cached = new Map<string, CachedSearch>();
          if (cache) {
            try {
              cached = await cache.getMany(sourceId, resourceType, shape, patientIds);
            } catch {
              // An unreadable cache is a miss for everyone, not a failed read.
            }
          }
          const misses = patientIds.filter((id) => !cached.has(id));
          const fetchedAt = new Date();
          const fetched = misses.length > 0 ? await searchForPatients(client, resourceType, misses, params, { signal }) : [];
          const fresh = new Map<string, PatientResources | Error>();
          const toStore = new Map<string, FhirResource[]>();
          misses.forEach((id, i) => {
            const result = fetched[i]!;
            if (result instanceof Error) {
              fresh.set(id, result);
            } else {
              fresh.set(id, { resources: result, fetchedAt, stale: false });
              toStore.set(id, result);
            }
          });
          writeBack(sourceId, resourceType, shape, toStore);
          return patientIds.map((id) => cached.get(id) ?? fresh.get(id)!);
        }),
      );
    },

    patientsByIdentifier(sourceId) {
      const client = clientFor(sourceId);
      return memo(`identifier\u0000${sourceId}`, () =>
        new DataLoader<string, Patient[]>(async (tokens) => {
          const capabilities = await client.getCapabilities();
          if (capabilities.patientOrSearch && tokens.length > 1) {
            const chunks = await searchOrList(client, 'Patient', 'identifier', tokens, [], { signal });
            const answers: (Patient[] | Error)[] = new Array(tokens.length);
            for (const { indexes, result } of chunks) {
              for (const i of indexes) {
                answers[i] = result instanceof Error ? result : uniquePatients(result).filter((p) => hasIdentifier(p, tokens[i]));
              }
            }
            return answers;
          }
          return Promise.all(
            tokens.map((token) =>
              client.search('Patient', [['identifier', token]], { signal, patients: 1 }).then(
                (found) => uniquePatients(found),
                (err: unknown) => toError(err),
              ),
            ),
          );
        }),
      );
    },

    patientById(sourceId) {
      const client = clientFor(sourceId);
      return memo(`patient\u0000${sourceId}`, () =>
        new DataLoader<string, Patient | null>(async (ids) => {
          const capabilities = await client.getCapabilities();
          if (capabilities.patientOrSearch && ids.length > 1) {
            const chunks = await searchOrList(client, 'Patient', '_id', ids.map(escapeSearchValue), [], { signal });
            const answers: (Patient | null | Error)[] = new Array(ids.length);
            for (const { indexes, result } of chunks) {
              const byId = result instanceof Error ? undefined : new Map(uniquePatients(result).map((p) => [p.id, p]));
              for (const i of indexes) answers[i] = byId ? (byId.get(ids[i]) ?? null) : (result as Error);
            }
            return answers;
          }
          return Promise.all(
            ids.map((id) =>
              client.read('Patient', id, { signal }).then(
                (found) => (found as Patient | null),
                (err: unknown) => toError(err),
              ),
            ),
          );
        }),
      );
    },

    async whenIdle() {
      while (pendingWrites.size > 0) await Promise.all([...pendingWrites]);
    },
  };
}

/** Patient resources of a search answer, each once (an OR search may list one twice). */
function uniquePatients(found: FhirResource[]): Patient[] {
  const seen = new Set<string>();
  const out: Patient[] = [];
  for (const r of found) {
    if (r.resourceType !== 'Patient') continue;
    const key = r.id ?? JSON.stringify(r);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(r);
  }
  return out;
}

/** Whether a patient carries the identifier a token names (FHIR token semantics: no system part = any system, `|v` = no system). */
function hasIdentifier(patient: Patient, token: string): boolean {
  const { system, code } = parseToken(token);
  return (patient.identifier ?? []).some(
    (id: Identifier) => id.value === code && (system === undefined || (system === '' ? !id.system : id.system === system)),
  );
}

function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
