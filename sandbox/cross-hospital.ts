import type { HumanName } from '@medplum/fhirtypes';
import type { Patient } from '../datasources/fhir/fhir-types.js';
import { alternateGivenName, CROSS_HOSPITAL_RATES as RATES } from './demographic-variants.js';
import { hashUnit } from './hash.js';
import { madeAddress, madePhone, POPULATION_REFERENCE_DATE } from './population.js';
import { SURNAMES } from './us-names.js';

/** One way the second hospital's copy of a person differs from the first's. */
export type VariationKind =
  | 'ssn-missing'
  | 'nickname'
  | 'given-typo'
  | 'family-typo'
  | 'married-name-maiden-kept'
  | 'married-name-maiden-dropped'
  | 'moved'
  | 'new-phone'
  | 'phone-missing'
  | 'day-month-swapped'
  | 'birth-date-digit';

/** Every variation kind, in the order they are applied. */
export const VARIATION_KINDS: readonly VariationKind[] = [
  'ssn-missing',
  'married-name-maiden-kept',
  'married-name-maiden-dropped',
  'nickname',
  'given-typo',
  'family-typo',
  'moved',
  'new-phone',
  'phone-missing',
  'day-month-swapped',
  'birth-date-digit',
];

const SSN_SYSTEM = 'http://hl7.org/fhir/sid/us-ssn';
/**
 * Keying slips rarely hit a word's first letter (Pollock and Zamora, 1984: about 1 in 14
 * misspellings), so the first letter is chosen that often and the others share the rest.
 */
const FIRST_LETTER_TYPO = 0.07;
const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

/**
 * Applies the second hospital's differences to its copy of a person (mutates `p`), each
 * decided by a hash of `key` (the person) at the rate written in `CROSS_HOSPITAL_RATES`,
 * independently, so that several may fall on one record. Returns the kinds applied.
 */
export function applyCrossHospitalVariations(p: Patient, key: string): VariationKind[] {
  const applied: VariationKind[] = [];
  const roll = (what: string) => hashUnit('variation', what, key);

  if (p.identifier?.some((i) => i.system === SSN_SYSTEM) && roll('ssn') < RATES.ssnMissing.rate) {
    p.identifier = p.identifier.filter((i) => i.system !== SSN_SYSTEM);
    applied.push('ssn-missing');
  }

  const name = officialName(p);
  if (name?.family && p.gender === 'female' && ageOn(p.birthDate, POPULATION_REFERENCE_DATE) >= 18 && roll('married') < RATES.marriedName.rate) {
    const maiden = name.family;
    let family = maiden;
    for (let i = 0; family === maiden; i++) family = SURNAMES[Math.floor(hashUnit('married-family', key, String(i)) * SURNAMES.length)]!;
    const keep = roll('maiden') < RATES.marriedKeepsMaiden.rate;
    const others = (p.name ?? []).filter((n) => n !== name && n.use !== 'maiden');
    name.family = family;
    name.prefix = name.prefix?.length ? ['Mrs.'] : name.prefix;
    p.name = [name, ...(keep ? [{ use: 'maiden', family: maiden, given: [...(name.given ?? [])] } satisfies HumanName] : []), ...others];
    applied.push(keep ? 'married-name-maiden-kept' : 'married-name-maiden-dropped');
  }

  const given = name?.given?.[0];
  const alt = given ? alternateGivenName(given) : undefined;
  if (name && alt && roll('nickname') < RATES.nickname.rate) {
    name.given = [alt, ...(name.given ?? []).slice(1)];
    applied.push('nickname');
  }
  if (name?.given?.[0] && name.given[0].length >= 3 && roll('given-typo') < RATES.givenTypo.rate) {
    name.given = [typo(name.given[0], `${key}|given`), ...name.given.slice(1)];
    applied.push('given-typo');
  }
  if (name?.family && name.family.length >= 3 && roll('family-typo') < RATES.familyTypo.rate) {
    name.family = typo(name.family, `${key}|family`);
    applied.push('family-typo');
  }

  const hadPhone = p.telecom?.some((t) => t.system === 'phone') ?? false;
  const phoneMissing = hadPhone && roll('phone-missing') < RATES.phoneMissing.rate;
  if (roll('moved') < RATES.moved.rate) {
    const old = p.address?.[0];
    let address = madeAddress('moved', key);
    for (let i = 0; old?.city === address.city; i++) address = madeAddress('moved', key, String(i));
    p.address = [address];
    applied.push('moved');
    if (hadPhone && !phoneMissing && roll('new-phone') < RATES.moverNewPhone.rate) {
      p.telecom = (p.telecom ?? []).map((t) => (t.system === 'phone' ? { ...t, value: madePhone('moved-phone', key) } : t));
      applied.push('new-phone');
    }
  }
  if (phoneMissing) {
    p.telecom = (p.telecom ?? []).filter((t) => t.system !== 'phone');
    if (p.telecom.length === 0) delete p.telecom;
    applied.push('phone-missing');
  }

  if (p.birthDate) {
    const [y, m, d] = p.birthDate.split('-');
    if (Number(d) <= 12 && d !== m && roll('swap') < RATES.dayMonthSwapped.rate) {
      p.birthDate = `${y}-${d}-${m}`;
      applied.push('day-month-swapped');
    }
    if (roll('birth-digit') < RATES.birthDateDigit.rate) {
      const mistyped = mistypeDigit(p.birthDate, key);
      if (mistyped) {
        p.birthDate = mistyped;
        applied.push('birth-date-digit');
      }
    }
  }
  return applied;
}

/**
 * One keying slip in a word: a letter replaced, two neighbours swapped, a letter dropped
 * or a letter doubled-in (a random one inserted). Always differs from `word`; keeps the
 * first letter upper case.
 */
export function typo(word: string, key: string): string {
  const kind = Math.floor(hashUnit('typo-kind', key) * 4);
  const at = hashUnit('typo-first', key) < FIRST_LETTER_TYPO ? 0 : 1 + Math.floor(hashUnit('typo-at', key) * (word.length - 1));
  const letter = (salt: string, not?: string) => {
    for (let i = 0; ; i++) {
      const c = LETTERS[Math.floor(hashUnit('typo-letter', key, salt, String(i)) * LETTERS.length)]!;
      if (c !== not?.toLowerCase()) return c;
    }
  };
  let out: string;
  if (kind === 0) out = word.slice(0, at) + letter('sub', word[at]) + word.slice(at + 1);
  else if (kind === 1 && at + 1 < word.length && word[at]!.toLowerCase() !== word[at + 1]!.toLowerCase()) out = word.slice(0, at) + word[at + 1] + word[at] + word.slice(at + 2);
  else if (kind === 2 && word.length > 3) out = word.slice(0, at) + word.slice(at + 1);
  else if (kind === 3) out = word.slice(0, at) + letter('ins') + word.slice(at);
  // A transposition of equal letters or at the end, or a deletion from a short word: substitute.
  else out = word.slice(0, at) + letter('sub', word[at]) + word.slice(at + 1);
  // Keep the capital where a name starts (a slip at the first letter moves it there).
  if (at === 0) out = out[0]!.toUpperCase() + (out[1] ?? '').toLowerCase() + out.slice(2);
  return out === word ? word.slice(0, -1) + letter('last', word.at(-1)) : out;
}

/** The date with one of its eight digits keyed wrong, still a real past date; undefined when none is found. */
export function mistypeDigit(date: string, key: string): string | undefined {
  const digits = date.replaceAll('-', '');
  for (let i = 0; i < 40; i++) {
    const pos = Math.floor(hashUnit('digit-at', key, String(i)) * 8);
    const digit = String(Math.floor(hashUnit('digit', key, String(i)) * 10));
    if (digit === digits[pos]) continue;
    const d = digits.slice(0, pos) + digit + digits.slice(pos + 1);
    const candidate = `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6)}`;
    if (isRealDate(candidate) && candidate < POPULATION_REFERENCE_DATE) return candidate;
  }
  return undefined;
}

function isRealDate(date: string): boolean {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  if (y < 1900 || m < 1 || m > 12 || d < 1) return false;
  return new Date(Date.UTC(y, m - 1, d)).getUTCDate() === d;
}

function ageOn(birthDate: string | undefined, on: string): number {
  if (!birthDate) return 0;
  const [by, bm, bd] = birthDate.split('-').map(Number) as [number, number, number];
  const [y, m, d] = on.split('-').map(Number) as [number, number, number];
  return y - by - (m < bm || (m === bm && d < bd) ? 1 : 0);
}

function officialName(p: Patient): HumanName | undefined {
  return p.name?.find((n) => n.use === 'official') ?? p.name?.[0];
}
