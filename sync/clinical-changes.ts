import type { PrismaClient } from '../datasources/cache/generated/client.js';
import type { PopulationTypeState } from '../datasources/population/population-store.js';
import { ChangesNotListedError, fetchChangedPage, firstChangesUrl } from '../datasources/sync/changed-resources.js';
import type { SourceHttp } from '../datasources/sync/source-http.js';
import { UpstreamError } from '../errors/errors.js';
import { fillLists, type ListFillContext, type ListFillResult } from './list-fill.js';

/** How one type's lists were brought up to date by an incremental run. */
export interface TypeRefresh extends Omit<PopulationTypeState, 'sourceId'> {
  /** Lists read: refetched (`listed`), or every known patient's (`not-listed`, `filled`). */
  lists: number;
  /** The refusal's HTTP status (`not-listed`). */
  status?: number;
}

/** What the step needs from the run. */
export interface ChangesInput {
  prisma: PrismaClient;
  http: SourceHttp;
  fill: ListFillContext;
  types: readonly string[];
  /** Changes after this are listed; null when there is no earlier complete fill (then every list is read). */
  since: Date | null;
  /**
   * Types whose facts were current only to an earlier time than `since` after the last fill
   * (changes not listed then, or cached copies served): their changes are listed from then.
   */
  behind?: ReadonlyMap<string, Date>;
  pageSize: number;
  startedAt: Date;
  /** `type \0 patient id` of the lists this run already fetched from the source (the patient walk). */
  fetched: ReadonlySet<string>;
  batchSize: number;
  signal?: AbortSignal;
  /** Types whose changes since `since` are already known (an `$export` with `_since` listed them): patient ids per type. */
  listed?: ReadonlyMap<string, ReadonlySet<string>>;
}

/** Lists refreshed per type and the lists that failed. */
export interface ChangesResult {
  types: TypeRefresh[];
  errors: number;
}

/**
 * The incremental step of `sync --resources` after the patient walk: per type, the source's
 * resources changed since the last complete fill, or since the type's own `currentTo` when
 * that fill left it behind (`[type]?_lastUpdated=gt<since>`, every
 * `next` link as given) name the patients whose lists are stale; those lists (of indexed
 * patients, not fetched already in this run) are fetched again past the cache and their
 * facts replaced. Cost follows what changed, not the population. A source that refuses the
 * search without a patient gets the fallback: every known patient's list older than the
 * type's cache TTL is fetched again (fresh copies are served), and the type is current
 * only to the oldest list used.
 * @throws UpstreamError when listing fails otherwise (the run fails and is retried from the same bound)
 */
export async function refreshChangedLists(input: ChangesInput): Promise<ChangesResult> {
  const types: TypeRefresh[] = [];
  let errors = 0;
  for (const type of input.types) {
    if (input.signal?.aborted) throw new UpstreamError(input.http.sourceId, 'UPSTREAM_TIMEOUT', { timeout: 'REQUEST_DEADLINE', reason: 'sync interrupted' });
    if (input.since === null) {
      const read = await readEveryList(input, type);
      errors += read.errors;
      types.push({ resourceType: type, changes: 'filled', currentTo: read.currentTo, lists: read.lists });
      continue;
    }
    const lag = input.behind?.get(type);
    const from = lag && lag < input.since ? lag : input.since;
    let changed: ReadonlySet<string>;
    try {
      // What an export listed counts from `since` only: a type behind it is searched from its own bound.
      changed = (from === input.since ? input.listed?.get(type) : undefined) ?? (await changedPatients(input, type, from));
    } catch (err) {
      if (!(err instanceof ChangesNotListedError)) throw err;
      const read = await readEveryList(input, type);
      errors += read.errors;
      types.push({ resourceType: type, changes: 'not-listed', status: err.status, currentTo: read.currentTo, lists: read.lists });
      continue;
    }
    const stale = await indexedAmong(input, [...changed].filter((id) => !input.fetched.has(`${type}\u0000${id}`)).sort());
    for (let i = 0; i < stale.length; i += input.batchSize) {
      errors += (await fillLists(input.fill, [type], stale.slice(i, i + input.batchSize), { refresh: true })).errors;
    }
    types.push({ resourceType: type, changes: 'listed', currentTo: input.startedAt, lists: stale.length });
  }
  return { types, errors };
}

/** Source patient ids named by the type's changes since `since`, over every page. */
async function changedPatients(input: ChangesInput, type: string, since: Date): Promise<Set<string>> {
  const { http } = input;
  let url = new URL(firstChangesUrl(http.base, type, input.pageSize, since));
  const seen = new Set<string>();
  const ids = new Set<string>();
  for (let first = true; ; first = false) {
    seen.add(url.href);
    const page = await fetchChangedPage(http, type, url, { first, signal: input.signal });
    for (const id of page.patientIds) ids.add(id);
    if (!page.next) return ids;
    const next = http.resolve(page.next, 'next link');
    if (seen.has(next.href)) throw new UpstreamError(http.sourceId, 'UPSTREAM_UNAVAILABLE', { reason: 'next links loop' });
    url = next;
  }
}

/** The ids among these that are indexed patients of the source (facts of others would join nobody). */
async function indexedAmong(input: ChangesInput, ids: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < ids.length; i += 1000) {
    const rows = await input.prisma.sourcePatient.findMany({
      where: { sourceId: input.http.sourceId, sourcePatientId: { in: ids.slice(i, i + 1000) } },
      select: { sourcePatientId: true },
      orderBy: { sourcePatientId: 'asc' },
    });
    out.push(...rows.map((r) => r.sourcePatientId));
  }
  return out;
}

/**
 * Every indexed patient's list of the type not fetched in this run, through the cache
 * (copies within their TTL are served), in pages of patients; the type is current to the
 * oldest list used.
 */
async function readEveryList(input: ChangesInput, type: string): Promise<{ lists: number; errors: number; currentTo: Date }> {
  let after: string | undefined;
  let lists = 0;
  let errors = 0;
  let oldest = input.startedAt.getTime();
  for (;;) {
    const rows = await input.prisma.sourcePatient.findMany({
      where: { sourceId: input.http.sourceId, ...(after !== undefined && { sourcePatientId: { gt: after } }) },
      select: { sourcePatientId: true },
      orderBy: { sourcePatientId: 'asc' },
      take: input.batchSize,
    });
    if (rows.length === 0) break;
    after = rows[rows.length - 1]!.sourcePatientId;
    const ids = rows.map((r) => r.sourcePatientId).filter((id) => !input.fetched.has(`${type}\u0000${id}`));
    if (ids.length === 0) continue;
    const read: ListFillResult = await fillLists(input.fill, [type], ids);
    errors += read.errors;
    lists += ids.length;
    for (const a of read.answers[0] ?? []) if (!(a instanceof Error)) oldest = Math.min(oldest, a.fetchedAt.getTime());
  }
  return { lists, errors, currentTo: new Date(oldest) };
}
