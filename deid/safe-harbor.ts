// HIPAA Safe Harbor (45 CFR 164.514(b)(2)) transformations of single values. Pure functions:
// no I/O, no clock unless one is passed in.

/**
 * The 3-digit ZIP prefixes whose areas held 20,000 people or fewer in the 2000 Census
 * (HHS guidance on Safe Harbor): these become `000`.
 */
export const RESTRICTED_ZIP3 = new Set([
  '036', '059', '063', '102', '203', '556', '692', '790', '821', '823', '830', '831', '878', '879', '884', '890', '893',
]);

/** Ages above this are grouped into one `90+` category, and the birth year of such people is withheld. */
export const MAX_SPECIFIC_AGE = 89;

/** The group label for everyone older than {@link MAX_SPECIFIC_AGE}. */
export const OLDEST_AGE_GROUP = '90+';

const YEAR = /^(\d{4})/;

/** The year of a FHIR date or dateTime (`2019-03-05T10:00:00Z` -> `2019`); null when there is none. */
export function yearOnly(value: string | null | undefined): string | null {
  if (!value) return null;
  return YEAR.exec(value)?.[1] ?? null;
}

/**
 * First three digits of a US ZIP code, `000` for the sparsely populated prefixes, null when
 * the value is not a ZIP code (a foreign postal code could identify a small place).
 */
export function zip3(postalCode: string | null | undefined): string | null {
  const m = /^\s*(\d{3})\d{2}(-?\d{4})?\s*$/.exec(postalCode ?? '');
  if (!m) return null;
  return RESTRICTED_ZIP3.has(m[1]!) ? '000' : m[1]!;
}

/**
 * Age in whole years on `today`. A partial birth date counts from the earliest day it can
 * mean (`1930` as 1930-01-01), so the age is never under-stated and nobody who may be over
 * 89 escapes the 90+ group.
 */
export function ageInYears(birthDate: string | null | undefined, today: Date): number | null {
  const m = /^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?/.exec(birthDate ?? '');
  if (!m) return null;
  const year = Number(m[1]);
  const month = m[2] ? Number(m[2]) : 1;
  const day = m[3] ? Number(m[3]) : 1;
  let age = today.getUTCFullYear() - year;
  const beforeBirthday = today.getUTCMonth() + 1 < month || (today.getUTCMonth() + 1 === month && today.getUTCDate() < day);
  if (beforeBirthday) age -= 1;
  return Math.max(0, age);
}

/** Five-year age band (`0-4`, `5-9`, ..., `85-89`) or `90+`; null without a birth date. */
export function ageGroup(birthDate: string | null | undefined, today: Date): string | null {
  const age = ageInYears(birthDate, today);
  if (age === null) return null;
  if (age > MAX_SPECIFIC_AGE) return OLDEST_AGE_GROUP;
  const low = Math.floor(age / 5) * 5;
  return `${low}-${low + 4}`;
}

/** Birth year, withheld (null) when it would show an age over 89. */
export function birthYear(birthDate: string | null | undefined, today: Date): number | null {
  const age = ageInYears(birthDate, today);
  const year = yearOnly(birthDate);
  if (age === null || year === null || age > MAX_SPECIFIC_AGE) return null;
  return Number(year);
}

/** An address reduced to what Safe Harbor keeps: the state and the 3-digit ZIP. */
export interface DeidentifiedAddress {
  line: string[];
  city: null;
  state: string | null;
  postalCode: string | null;
  country: string | null;
}

/** Street, city and the last ZIP digits go; state and country stay (larger than a ZIP3 area). */
export function deidentifyAddress(address: { state?: string | null; postalCode?: string | null; country?: string | null }): DeidentifiedAddress {
  return { line: [], city: null, state: address.state ?? null, postalCode: zip3(address.postalCode), country: address.country ?? null };
}
