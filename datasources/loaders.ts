import DataLoader from 'dataloader';
import { UpstreamError, type UpstreamInvalidResponseError, type UpstreamWarning } from '../errors/errors.js';
import type { AnswerFreshness } from './answer-freshness.js';
import type { CachedSearch, SearchCache } from './cache/search-cache.js';
import type { FhirClient } from './fhir/fhir-client.js';
import type { FhirResource, Identifier, Patient, SearchParams } from './fhir/fhir-types.js';
import { batchInChunks, searchForPatients, searchOrList } from './fhir/patient-batch.js';
import type { RequestBudget } from './fhir/request-budget.js';
import { escapeSearchValue, parseToken, shapeKey } from './fhir/search-params.js';
import { attachProblems, problemErrors, problemsForPatient, problemsOf } from './fhir/searchset-check.js';

/** What {@link createLoaders} needs: the long-lived clients per source id, and the search cache if there is one. */
export interface LoaderDeps {
  clients: ReadonlyMap<string, FhirClient>;
  cache?: SearchCache;
  /** The GraphQL request's signal: aborts its upstream searches when the client goes away. */
  signal?: AbortSignal;
  /**
   * The GraphQL request's budget: one deadline over every upstream call of the request, and
   * a source that timed out once is not asked again in it. Its signal is used when `signal` is not given.
   */
  budget?: RequestBudget;
  /** How far past their TTL cached searches may still be served. */
  cachePolicy?: StalePolicy;
  /** Told how fresh each cached copy served is, and of every part not served from the cache (the response cache). */
  freshness?: AnswerFreshness;
  /** Told after each batch of {@link Loaders.resources} consulted the search cache (explain, metrics). */
  onCacheLookup?: (lookup: CacheLookup) => void;
  /**
   * Fetch every asked patient from the source even when the cache holds a fresh copy, and
   * store what comes back: the sync's refresh of lists it knows to be stale (the source
   * listed a change in them). Failures stay failures (no stale copy stands in).
   */
  refresh?: boolean;
}

/** How long past its TTL a cached search may be served: while refreshing, and when the source fails. */
export interface StalePolicy {
  staleWhileRevalidateSeconds: number;
  staleIfErrorSeconds: number;
}

const NO_STALE: StalePolicy = { staleWhileRevalidateSeconds: 0, staleIfErrorSeconds: 0 };

/** Source failures (not programming errors) are the ones a stale copy may stand in for. */
function isUpstreamFailure(err: Error): boolean {
  return err instanceof UpstreamError;
}

/** One batch's look into the search cache: how many of its patients were served from it. */
export interface CacheLookup {
  sourceId: string;
  resourceType: string;
  /** Patients whose results were fresh in the cache (no upstream call for them). */
  hits: number;
  /** Patients that had to be fetched from the source. */
  misses: number;
  /** Time spent reading the cache. */
  ms: number;
}

/**
 * One patient's resources of one search, with when they were fetched (now, or from the
 * cache), and what the source sent that was set aside or cut short (fresh answers only:
 * an answer with problems is never cached, so the next request sees them again).
 */
export type PatientResources = CachedSearch & { problems?: readonly (UpstreamInvalidResponseError | UpstreamWarning)[] };

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
  /**
   * Resources of another type by id (a Medication a MedicationRequest references), fetched
   * and cached as Patient reads are: `_id` OR lists, else a batch of reads, else one read each.
   */
  resourceById(sourceId: string, resourceType: string): DataLoader<string, FhirResource | null>;
  /** Settles when the search-cache writes started by this request have finished (or failed). */
  whenIdle(): Promise<void>;
}

/**
 * Creates the DataLoaders for one GraphQL request. All state (the loaders, their
 * memo, pending cache writes) hangs off the returned object.
 */
export function createLoaders(deps: LoaderDeps): Loaders {
  const { cache, budget } = deps;
  // The budget's signal is made only when a call reaches a source (a cached answer never does).
  const opts = { signal: deps.signal, budget };
  const signal = () => deps.signal ?? budget?.signal;
  const policy = deps.cachePolicy ?? NO_STALE;
  const loaders = new Map<string, DataLoader<string, unknown>>();
  const pendingWrites = new Set<Promise<unknown>>();

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

  /** Runs `work` off the answer's path; `whenIdle` waits for it. A failure costs only a future cache miss. */
  function inBackground(work: () => Promise<unknown>): void {
    const job = Promise.resolve()
      .then(work)
      .catch(() => undefined)
      .finally(() => pendingWrites.delete(job));
    pendingWrites.add(job);
  }

  /**
   * False when nothing stored for this type could ever be served (TTL 0 and no stale
   * window): the cache is off for it, so it is neither read nor written.
   */
  function cacheServes(resourceType: string): boolean {
    if (!cache) return false;
    const now = new Date();
    return cache.expiryFor(resourceType, now) > now || policy.staleWhileRevalidateSeconds > 0 || policy.staleIfErrorSeconds > 0;
  }

  function writeBack(sourceId: string, resourceType: string, shape: string, results: Map<string, FhirResource[]>, fetchedAt: Date): void {
    if (!cache || results.size === 0 || !cacheServes(resourceType)) return;
    inBackground(() => cache.putMany(sourceId, resourceType, shape, results, fetchedAt));
  }

  /** What a cache-through batch fetches from the source for the patients the cache cannot serve. */
  type Fetch = (patientIds: string[]) => Promise<(FhirResource[] | Error)[]>;

  /**
   * One batch through the search cache. Fresh copies are served; copies just past their
   * TTL are served too while a refresh runs in the background (stale-while-revalidate);
   * older copies are kept only as the answer of last resort when the source fails
   * (stale-if-error). What is fetched is stored after the answer.
   */
  async function throughCache(
    sourceId: string,
    resourceType: string,
    shape: string,
    patientIds: readonly string[],
    fetch: Fetch,
  ): Promise<(PatientResources | Error)[]> {
    let cached = new Map<string, CachedSearch>();
    const started = performance.now();
    const useCache = cacheServes(resourceType) && !deps.refresh;
    if (cache && useCache) {
      try {
        cached = await cache.getMany(sourceId, resourceType, shape, patientIds, { includeStale: true });
      } catch {
        // An unreadable cache is a miss for everyone, not a failed read.
      }
    }
    const now = Date.now();
    const served = new Map<string, CachedSearch>();
    const lastResort = new Map<string, CachedSearch>();
    const revalidate: string[] = [];
    for (const [id, entry] of cached) {
      const pastTtl = now - entry.expiresAt.getTime();
      if (!entry.stale) served.set(id, entry);
      else if (pastTtl <= policy.staleWhileRevalidateSeconds * 1000) {
        served.set(id, entry);
        revalidate.push(id);
      } else if (pastTtl <= policy.staleIfErrorSeconds * 1000) lastResort.set(id, entry);
    }
    if (cache && useCache) {
      deps.onCacheLookup?.({ sourceId, resourceType, hits: served.size, misses: patientIds.length - served.size, ms: performance.now() - started });
    }
    if (revalidate.length > 0) {
      const refreshedAt = new Date();
      inBackground(async () => {
        const results = await fetch(revalidate);
        writeBack(sourceId, resourceType, shape, successes(revalidate, results), refreshedAt);
      });
    }

    const misses = patientIds.filter((id) => !served.has(id));
    if (deps.freshness) {
      if (misses.length > 0 || revalidate.length > 0) deps.freshness.notFromCache();
      for (const entry of served.values()) deps.freshness.servedFromCache(entry.expiresAt.getTime());
    }
    const fetchedAt = new Date();
    const fetched = misses.length > 0 ? await fetch(misses) : [];
    const answers = new Map<string, PatientResources | Error>();
    misses.forEach((id, i) => {
      const result = fetched[i]!;
      const kept = lastResort.get(id);
      if (result instanceof Error) answers.set(id, kept && isUpstreamFailure(result) ? kept : result);
      else {
        const problems = problemErrors(sourceId, problemsOf(result));
        answers.set(id, { resources: result, fetchedAt, stale: false, expiresAt: fetchedAt, ...(problems.length && { problems }) });
      }
    });
    writeBack(sourceId, resourceType, shape, successes(misses, fetched), fetchedAt);
    return patientIds.map((id) => served.get(id) ?? answers.get(id)!);
  }

  return {
    resources(sourceId, resourceType, params = []) {
      const client = clientFor(sourceId);
      const shape = shapeKey(params);
      return memo(`resources\u0000${sourceId}\u0000${resourceType}\u0000${shape}`, () =>
        new DataLoader<string, PatientResources>((patientIds) =>
          throughCache(sourceId, resourceType, shape, patientIds, (ids) => searchForPatients(client, resourceType, ids, params, opts)),
        ),
      );
    },

    patientsByIdentifier(sourceId) {
      const client = clientFor(sourceId);
      return memo(`identifier\u0000${sourceId}`, () =>
        new DataLoader<string, Patient[]>(async (tokens) => {
          let capabilities;
          try {
            opts.budget?.check(sourceId);
            capabilities = await client.getCapabilities(signal());
          } catch (err) {
            return tokens.map(() => toError(err));
          }
          if (capabilities.patientOrSearch && tokens.length > 1) {
            const chunks = await searchOrList(client, 'Patient', 'identifier', tokens, [], opts);
            const answers: (Patient[] | Error)[] = new Array(tokens.length);
            for (const { indexes, result } of chunks) {
              for (const i of indexes) {
                answers[i] = result instanceof Error ? result : uniquePatients(result).filter((p) => hasIdentifier(p, tokens[i]));
              }
            }
            return answers;
          }
          if (capabilities.batch && tokens.length > 1) {
            const answers = await batchInChunks(
              client,
              tokens.map((token) => ({ kind: 'search', resourceType: 'Patient', params: [['identifier', token]], patients: 1 })),
              opts,
            );
            return answers.map((r, i) => (r instanceof Error ? r : uniquePatients(r).filter((p) => hasIdentifier(p, tokens[i]!))));
          }
          return Promise.all(
            tokens.map((token) =>
              client.search('Patient', [['identifier', token]], { ...opts, patients: 1 }).then(
                // A server that ignores the parameter must not link whoever it lists.
                (found) => uniquePatients(found).filter((p) => hasIdentifier(p, token)),
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
          // Cached as a one-resource "search" per patient, so repeat views of a patient need no upstream read.
          const found = await throughCache(sourceId, 'Patient', PATIENT_READ_SHAPE, ids, (misses) => readById(client, 'Patient', misses, opts));
          return found.map((r) => (r instanceof Error ? r : ((r.resources[0] as Patient | undefined) ?? null)));
        }),
      );
    },

    resourceById(sourceId, resourceType) {
      const client = clientFor(sourceId);
      return memo(`byId\u0000${sourceId}\u0000${resourceType}`, () =>
        new DataLoader<string, FhirResource | null>(async (ids) => {
          // Cached under the resource's own id in the place of a patient id, as Patient reads are.
          const found = await throughCache(sourceId, resourceType, PATIENT_READ_SHAPE, ids, (misses) => readById(client, resourceType, misses, opts));
          return found.map((r) => (r instanceof Error ? r : (r.resources[0] ?? null)));
        }),
      );
    },

    async whenIdle() {
      while (pendingWrites.size > 0) await Promise.all([...pendingWrites]);
    },
  };
}

const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;

/** Cache shape under which single reads (of Patients, of referenced Medications) are kept. */
const PATIENT_READ_SHAPE = '#read';

/**
 * Resources by source id: `_id=a,b,c` where the source allows OR lists, else a batch of
 * reads, else one read each. Each answer is the resource as a one-item list, or an empty
 * list when the source has none.
 */
async function readById(client: FhirClient, resourceType: string, ids: string[], opts: { signal?: AbortSignal; budget?: RequestBudget }): Promise<(FhirResource[] | Error)[]> {
  let capabilities;
  try {
    opts.budget?.check(client.sourceId);
    capabilities = await client.getCapabilities(opts.signal ?? opts.budget?.signal);
  } catch (err) {
    return ids.map(() => toError(err));
  }
  if (capabilities.patientOrSearch && ids.length > 1) {
    const chunks = await searchOrList(client, resourceType, '_id', ids.map(escapeSearchValue), [], opts);
    const answers: (FhirResource[] | Error)[] = new Array(ids.length);
    for (const { indexes, result } of chunks) {
      const byId = result instanceof Error ? undefined : new Map(uniqueOfType(result, resourceType).map((p) => [p.id, p]));
      const problems = result instanceof Error ? [] : problemsOf(result);
      for (const i of indexes) {
        const p = byId?.get(ids[i]!);
        const answer = byId ? (p ? [p] : []) : (result as Error);
        if (Array.isArray(answer)) attachProblems(answer, problemsForPatient(problems, ids[i]!));
        answers[i] = answer;
      }
    }
    return answers;
  }
  if (capabilities.batch && ids.length > 1) {
    // Reads of ids that cannot be FHIR ids never leave the gateway (as with `read`).
    const valid = ids.filter((id) => FHIR_ID.test(id));
    const answers = await batchInChunks(client, valid.map((id) => ({ kind: 'read', resourceType, id })), opts);
    const byId = new Map(valid.map((id, i) => [id, answers[i]!]));
    return ids.map((id) => {
      const r = byId.get(id);
      return r === undefined ? [] : r instanceof Error ? r : uniqueOfType(r, resourceType).filter((p) => p.id === id);
    });
  }
  return Promise.all(
    ids.map((id) =>
      client.read(resourceType, id, opts).then(
        (found) => (found ? [found] : []),
        (err: unknown) => toError(err),
      ),
    ),
  );
}

/** The successful results with nothing set aside, by patient id: what may be cached. */
function successes(ids: readonly string[], results: readonly (FhirResource[] | Error | undefined)[]): Map<string, FhirResource[]> {
  const ok = new Map<string, FhirResource[]>();
  ids.forEach((id, i) => {
    const r = results[i];
    if (r && !(r instanceof Error) && problemsOf(r).length === 0) ok.set(id, r);
  });
  return ok;
}

/** Patient resources of a search answer, each once (an OR search may list one twice). */
function uniquePatients(found: FhirResource[]): Patient[] {
  return uniqueOfType(found, 'Patient') as Patient[];
}

/** Resources of one type in a search answer, each once. */
function uniqueOfType(found: FhirResource[], resourceType: string): FhirResource[] {
  const seen = new Set<string>();
  const out: FhirResource[] = [];
  for (const r of found) {
    if (r.resourceType !== resourceType) continue;
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
