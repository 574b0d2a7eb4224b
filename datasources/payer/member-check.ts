import { UpstreamInvalidResponseError } from '../../errors/errors.js';
import type { EligibilityInquiry } from './eligibility-types.js';
import { isObject } from '../fhir/upstream-http.js';

const norm = (s: string) => s.trim().toUpperCase();

/**
 * A 271 must be about the member the 270 asked for: a clearinghouse that mixes up answers
 * (a cached answer of another member, a crossed connection) would otherwise show someone
 * else's coverage in this patient's chart. The answer's `subscriber.memberId`, when given,
 * must equal the asked member id (case and spaces aside); a 271 that names no member (an
 * AAA rejection) passes. Throws an {@link UpstreamInvalidResponseError} `payer-member-mismatch`.
 */
export function checkMemberOf271(sourceId: string, inquiry: EligibilityInquiry, raw: unknown): void {
  const subscriber = isObject(raw) && isObject(raw.subscriber) ? raw.subscriber : undefined;
  const answered = typeof subscriber?.memberId === 'string' ? subscriber.memberId : undefined;
  if (answered !== undefined && norm(answered) !== norm(inquiry.memberId)) {
    throw new UpstreamInvalidResponseError(sourceId, 'payer-member-mismatch', 1);
  }
}
