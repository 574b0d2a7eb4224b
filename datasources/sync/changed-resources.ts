import { attributedPatientId } from '../fhir/attribution.js';
import { buildSearchQuery } from '../fhir/search-params.js';
import { isObject } from '../fhir/upstream-http.js';
import { searchBundle } from './search-bundle.js';
import type { SourceHttp } from './source-http.js';

/** One page of a `[type]?_lastUpdated=gt<since>` search, as the patients it touches. */
export interface ChangedPage {
  /** Source patient ids of the changed resources (each once per page). */
  patientIds: string[];
  /** The `next` link exactly as the server wrote it; absent on the last page. */
  next?: string;
}

/**
 * The source will not list changes without a patient (many EHRs allow clinical searches
 * only within one patient's compartment): a 400, 403, 405 or 422 to the first page.
 */
export class ChangesNotListedError extends Error {
  constructor(
    readonly sourceId: string,
    readonly resourceType: string,
    readonly status: number,
  ) {
    super(`${sourceId} does not list ${resourceType} changes without a patient (HTTP ${status})`);
    this.name = 'ChangesNotListedError';
  }
}

// What servers answer to a search they allow only with a patient; 401, 404, 429 and 5xx are failures.
const REFUSALS = new Set([400, 403, 405, 422]);

/** The first page of a type's changes: `[base]/[type]?_lastUpdated=gt<since>&_count=n`. */
export function firstChangesUrl(base: string, resourceType: string, count: number, since: Date): string {
  return `${base}/${resourceType}?${buildSearchQuery([
    ['_lastUpdated', `gt${since.toISOString()}`],
    ['_count', String(count)],
  ])}`;
}

/**
 * Fetches one page of changes and keeps only who they belong to: the patient of each
 * matching resource of the type on this source (a reference to another server, or none,
 * names nobody here). Deleted resources need no entry: the patient's list is refetched
 * only when something of theirs is listed, and a deletion a server does not list is
 * caught by the next full run.
 * @throws ChangesNotListedError on a refusal of the first page; UpstreamError otherwise (see `searchBundle`)
 */
export async function fetchChangedPage(http: SourceHttp, resourceType: string, url: URL, opts: { first: boolean; signal?: AbortSignal }): Promise<ChangedPage> {
  const res = await http.request(url, { signal: opts.signal });
  if (opts.first && REFUSALS.has(res.status)) throw new ChangesNotListedError(http.sourceId, resourceType, res.status);
  const bundle = searchBundle(http.sourceId, res);
  const ids = new Set<string>();
  for (const entry of bundle.entry ?? []) {
    const mode = entry.search?.mode;
    const resource = entry.resource;
    if ((mode !== undefined && mode !== 'match') || !isObject(resource) || resource.resourceType !== resourceType) continue;
    const owner = attributedPatientId(resource, http.base);
    if (owner !== undefined) ids.add(owner);
  }
  const next = bundle.link?.find((l) => l.relation === 'next')?.url;
  return { patientIds: [...ids], ...(next && { next }) };
}
