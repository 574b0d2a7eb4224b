import { UpstreamError } from '../../errors/errors.js';
import type { Bundle, Patient } from '../fhir/fhir-types.js';
import { malformation } from '../fhir/resource-validation.js';
import { buildSearchQuery } from '../fhir/search-params.js';
import { isObject, statusError, summariseOutcome, tryParseJson } from '../fhir/upstream-http.js';
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

const JSON_TYPES = /^application\/(fhir\+json|json|json\+fhir)\b/i;

/**
 * Fetches one searchset page. Entries whose `search.mode` is `include` or `outcome` are
 * left out; a 2xx that is not a Bundle (an OperationOutcome, say) is a failure.
 * @throws UpstreamError
 */
export async function fetchPatientPage(http: SourceHttp, url: URL, signal?: AbortSignal): Promise<PatientPage> {
  const res = await http.request(url, { signal });
  if (res.status < 200 || res.status > 299) throw statusError(http.sourceId, res);
  const type = res.headers.get('content-type');
  if (type !== null && !JSON_TYPES.test(type)) throw new UpstreamError(http.sourceId, 'UPSTREAM_UNAVAILABLE', { status: res.status, reason: 'answer is not JSON' });
  const parsed = tryParseJson(res.body);
  if (!isObject(parsed) || parsed.resourceType !== 'Bundle') {
    throw new UpstreamError(http.sourceId, 'UPSTREAM_UNAVAILABLE', {
      status: res.status,
      outcome: summariseOutcome(parsed),
      reason: isObject(parsed) && typeof parsed.resourceType === 'string' ? `expected a Bundle, got ${parsed.resourceType}` : 'malformed JSON or not a FHIR resource',
    });
  }
  const bundle = parsed as unknown as Bundle;
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
