import { UpstreamError } from '../../errors/errors.js';
import type { Bundle } from '../fhir/fhir-types.js';
import { isObject, statusError, summariseOutcome, tryParseJson, type HttpResult } from '../fhir/upstream-http.js';

const JSON_TYPES = /^application\/(fhir\+json|json|json\+fhir)\b/i;

/**
 * The Bundle of one search page the sync walks (patients, or a type's changes): a non-2xx,
 * an answer declared as something other than JSON, or a 2xx that is not a Bundle (an
 * OperationOutcome, say) is a failure.
 * @throws UpstreamError
 */
export function searchBundle(sourceId: string, res: HttpResult): Bundle {
  if (res.status < 200 || res.status > 299) throw statusError(sourceId, res);
  const type = res.headers.get('content-type');
  if (type !== null && !JSON_TYPES.test(type)) throw new UpstreamError(sourceId, 'UPSTREAM_UNAVAILABLE', { status: res.status, reason: 'answer is not JSON' });
  const parsed = tryParseJson(res.body);
  if (!isObject(parsed) || parsed.resourceType !== 'Bundle') {
    throw new UpstreamError(sourceId, 'UPSTREAM_UNAVAILABLE', {
      status: res.status,
      outcome: summariseOutcome(parsed),
      reason: isObject(parsed) && typeof parsed.resourceType === 'string' ? `expected a Bundle, got ${parsed.resourceType}` : 'malformed JSON or not a FHIR resource',
    });
  }
  return parsed as unknown as Bundle;
}
