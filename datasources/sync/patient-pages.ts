import type { Patient } from '../fhir/fhir-types.js';
import { malformation } from '../fhir/resource-validation.js';
import { buildSearchQuery } from '../fhir/search-params.js';
import { searchBundle } from './search-bundle.js';
import type { SourceHttp } from './source-http.js';

/** One page of a paged Patient search. */
export interface PatientPage {
  patients: Patient[];
  /** The `next` link exactly as the server wrote it; absent on the last page. */
  next?: string;
  /** `Bundle.total` when the server gave it. */
  total?: number;
}

/**
 * The first page of a whole-population Patient search: `[base]/Patient?_count=n`, with
 * `_lastUpdated=gt<since>` for an incremental run.
 */
export function firstPatientPageUrl(base: string, count: number, since?: Date | null): string {
  const params: Array<[string, string]> = [['_count', String(count)]];
  if (since) params.push(['_lastUpdated', `gt${since.toISOString()}`]);
  return `${base}/Patient?${buildSearchQuery(params)}`;
}

/**
 * Fetches one searchset page (checked by `searchBundle`). Entries whose `search.mode` is
 * `include` or `outcome` are left out.
 * @throws UpstreamError
 */
export async function fetchPatientPage(http: SourceHttp, url: URL, signal?: AbortSignal): Promise<PatientPage> {
  const res = await http.request(url, { signal });
  const bundle = searchBundle(http.sourceId, res);
  const patients: Patient[] = [];
  for (const entry of bundle.entry ?? []) {
    const mode = entry.search?.mode;
    // The same structural rule as every other answer (see resource-validation.ts): a malformed Patient is not indexed.
    if (entry.resource?.resourceType === 'Patient' && (mode === undefined || mode === 'match') && malformation(entry.resource) === undefined) {
      patients.push(entry.resource);
    }
  }
  const next = bundle.link?.find((l) => l.relation === 'next')?.url;
  return { patients, ...(next && { next }), ...(typeof bundle.total === 'number' && { total: bundle.total }) };
}
