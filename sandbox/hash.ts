import { createHash } from 'node:crypto';

/** Hex SHA-256 of the parts joined by a separator that cannot occur in FHIR ids. */
export function hashHex(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex');
}

/**
 * A number in [0, 1) derived from the parts. The split uses it instead of randomness so
 * that every run, every process and every machine sees the same sandbox.
 */
export function hashUnit(...parts: string[]): number {
  return parseInt(hashHex(...parts).slice(0, 12), 16) / 2 ** 48;
}

/** A decimal string of `digits` digits derived from the parts. */
export function hashDigits(digits: number, ...parts: string[]): string {
  const n = BigInt('0x' + hashHex(...parts).slice(0, 24));
  return (n % 10n ** BigInt(digits)).toString().padStart(digits, '0');
}
