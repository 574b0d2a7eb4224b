/**
 * Folding of demographic values for comparison. Registration systems differ in case,
 * accents, punctuation and formatting; none of that says anything about identity.
 */

/** Upper case, accents removed, only letters, spaces and hyphens kept, spaces collapsed. Synthea's digit suffixes go too. */
export function foldName(value: string | null | undefined): string | null {
  if (!value) return null;
  const folded = value
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toUpperCase()
    .replace(/['’`.]/g, '')
    .replace(/[^A-Z\- ]+/g, ' ')
    .replace(/\s*-\s*/g, '-')
    .replace(/\s+/g, ' ')
    .trim();
  return folded || null;
}

/** The parts of a compound family name (`SMITH-JONES`, `DE LA CRUZ`): hyphens and spaces split. */
export function nameParts(folded: string): string[] {
  return folded.split(/[- ]/).filter((p) => p.length > 1);
}

/** A FHIR date (`YYYY`, `YYYY-MM`, `YYYY-MM-DD`): only full dates are compared. */
export function normalizeBirthDate(value: string | null | undefined): string | null {
  if (!value) return null;
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(value.trim());
  return m ? `${m[1]}-${m[2]}-${m[3]}` : null;
}

/** US ZIP: the first five digits (ZIP+4 and `02118-1234` agree with `02118`). */
export function normalizePostalCode(value: string | null | undefined): string | null {
  const digits = value?.replace(/\D/g, '') ?? '';
  return digits.length >= 5 ? digits.slice(0, 5) : null;
}

/** A phone as its last ten digits (country code and punctuation dropped). */
export function normalizePhone(value: string | null | undefined): string | null {
  const digits = value?.replace(/\D/g, '') ?? '';
  return digits.length >= 7 ? digits.slice(-10) : null;
}

const STREET_WORDS: Readonly<Record<string, string>> = {
  STREET: 'ST',
  AVENUE: 'AVE',
  AV: 'AVE',
  ROAD: 'RD',
  DRIVE: 'DR',
  LANE: 'LN',
  BOULEVARD: 'BLVD',
  COURT: 'CT',
  PLACE: 'PL',
  TERRACE: 'TER',
  PARKWAY: 'PKWY',
  HIGHWAY: 'HWY',
  SQUARE: 'SQ',
  NORTH: 'N',
  SOUTH: 'S',
  EAST: 'E',
  WEST: 'W',
  APARTMENT: 'APT',
  SUITE: 'STE',
  UNIT: 'UNIT',
};

/** An address line with USPS-style abbreviations, so `12 Main Street` equals `12 MAIN ST.`. */
export function normalizeAddressLine(lines: readonly string[] | null | undefined): string | null {
  if (!lines?.length) return null;
  const words = lines
    .join(' ')
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toUpperCase()
    .replace(/[^A-Z0-9 ]+/g, ' ')
    .split(/\s+/)
    .filter(Boolean)
    .map((w) => STREET_WORDS[w] ?? w);
  return words.length ? words.join(' ') : null;
}
