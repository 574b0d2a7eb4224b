import { createHmac } from 'node:crypto';

/** What a pseudonym looks like: 43 base64url characters (a full HMAC-SHA256). */
export const PSEUDONYM_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** True when `value` has the shape of a pseudonym this module makes. */
export function isPseudonym(value: string): boolean {
  return PSEUDONYM_PATTERN.test(value);
}

/**
 * Keyed, one-way replacement of ids for de-identified views (HIPAA Safe Harbor allows a
 * re-identification code only when it is not derived from the identifier in a way that
 * can be reversed: an HMAC under a secret key cannot be, without the key). The same key
 * gives the same pseudonym on every query, replica and restart, so analysts can join
 * results; a different key gives unrelated pseudonyms.
 */
export class Pseudonymizer {
  private readonly key: Buffer;

  constructor(key: string | Uint8Array) {
    this.key = typeof key === 'string' ? Buffer.from(key, 'utf8') : Buffer.from(key);
    if (this.key.length < 32) throw new Error('the de-identification key must be at least 32 bytes');
  }

  /** Pseudonym of a unified patient id. */
  patientId(unifiedId: string): string {
    return this.hash('patient', unifiedId);
  }

  /** Pseudonym of a clinical item id (`<source>/<ResourceType>/<id>`) or any other record id. */
  resourceId(id: string): string {
    return this.hash('resource', id);
  }

  // The domain prefix keeps a patient id and a resource id that happen to be equal from
  // getting the same pseudonym, which would let one be linked to the other.
  private hash(domain: string, value: string): string {
    return createHmac('sha256', this.key).update(`${domain}\u0000${value}`).digest('base64url');
  }
}
