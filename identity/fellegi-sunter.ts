import type { MatchRecord } from './match-record.js';
import { nameParts } from './normalize.js';
import { areNicknames } from './nicknames.js';
import { isOneEdit, jaroWinkler } from './string-similarity.js';

/**
 * Fellegi-Sunter scoring of two patient records.
 *
 * Each field is compared into one of a few outcome levels. For every level, `m` is the
 * probability of that outcome when the two records are the same person, `u` the
 * probability when they are two different people (chance agreement). An outcome adds
 * log2(m/u) bits to the score: agreements add, disagreements (whose m and u are the
 * remainders, so log2((1-m)/(1-u)) for a two-level field) subtract. A field missing on
 * either side adds 0. The score is therefore the log2 likelihood ratio "same person vs two
 * people", under the usual assumption that fields are independent given the match status.
 * Where that assumption is known to fail (address line and ZIP; twins and households
 * sharing name, address and phone) the code says what it does instead.
 *
 * The m and u values are written down from published record-linkage practice and the
 * population the gateway serves (a US regional MPI, Massachusetts-like), not fitted; each
 * has its reason next to it. They can be re-estimated with EM on a site's own pairs.
 */

/** One level of one field: its m- and u-probability. */
export interface Level {
  m: number;
  u: number;
}

/** Level tables per field. The levels of a field are exclusive and their m (and u) sum to 1. */
export const FIELD_LEVELS = {
  family: {
    // Same family name. m: clerical errors, marriages and hyphenation leave ~12% of true
    // pairs not identical. u: the chance two random US residents share a surname is about
    // 0.3% (Census 2010 surname frequencies, summed squares, plus regional clustering).
    exact: { m: 0.88, u: 0.003 },
    // One name is a part of the other (SMITH vs SMITH-JONES) or a former name (maiden) of
    // the other: marriage and hyphenation. Rare by chance (a part of one of two random names).
    part: { m: 0.03, u: 0.0005 },
    // One edit apart (a letter typed wrong, left out, doubled or swapped) or Jaro-Winkler
    // >= 0.9: a typing slip. Between random surnames this happens ~0.4% of the time.
    typo: { m: 0.04, u: 0.004 },
    // Everything else: a changed name, or two people.
    disagree: { m: 0.05, u: 0.9925 },
  },
  given: {
    // Same first name. u: first names are more concentrated than surnames (~0.6% chance
    // agreement, SSA baby-name frequencies across birth cohorts).
    exact: { m: 0.86, u: 0.006 },
    // Nickname table (BOB / ROBERT): common at registration desks; by chance ~0.1%.
    nickname: { m: 0.07, u: 0.001 },
    // One edit apart or Jaro-Winkler >= 0.9 (a typing slip, ~4% of registrations), or first
    // and middle name swapped. By chance ~0.3%: first names cluster, and short ones sit close.
    typo: { m: 0.04, u: 0.003 },
    disagree: { m: 0.03, u: 0.99 },
  },
  birthDate: {
    // Same full date. u: 1 / (365.25 * ~80 birth years in the population) = 3.4e-5.
    exact: { m: 0.95, u: 3.4e-5 },
    // Day and month swapped (US MM/DD vs DD/MM entry): a known error, about 1% of true
    // pairs; by chance as rare as an exact agreement.
    transposed: { m: 0.01, u: 3.4e-5 },
    // Exactly one digit differs (1985-03-12 vs 1985-08-12, 1958 vs 1959): a keying slip,
    // ~1.5% of true pairs. By chance: 8 digit places with a few plausible values each over
    // ~29,000 dates, ~0.05%.
    typo: { m: 0.015, u: 0.0005 },
    // Exactly one of year, month, day differs in more than one digit. By chance: same year
    // and month (1/80 * 1/12), same year and day (1/80 * 1/30), same month and day (1/365): ~0.4%.
    partial: { m: 0.012, u: 0.0036 },
    disagree: { m: 0.013, u: 0.9958 },
  },
  gender: {
    // Administrative gender agrees for nearly all true pairs (2% errors and changes); by
    // chance half the time. So agreement says little and disagreement says a lot.
    agree: { m: 0.98, u: 0.5 },
    disagree: { m: 0.02, u: 0.5 },
  },
  address: {
    // Address line and ZIP are one field with exclusive levels: the same street address
    // implies the same ZIP, so scoring both would count one fact twice.
    // Same street address: ~38% of true pairs differ (a quarter of people move within a few
    // years; formatting beyond the normalisation). By chance 0.02% (apartment blocks, and a
    // regional population).
    full: { m: 0.62, u: 0.0002 },
    // Different street, same ZIP: a move within town. A regional MPI spreads over a few
    // hundred ZIPs: ~1% by chance.
    zip: { m: 0.13, u: 0.01 },
    disagree: { m: 0.25, u: 0.9898 },
  },
  phone: {
    // Same phone number: people keep mobile numbers but 30% of true pairs differ (new
    // numbers, work vs home). By chance 0.01% (household landlines, recycled numbers).
    agree: { m: 0.7, u: 0.0001 },
    disagree: { m: 0.3, u: 0.9999 },
  },
  strongIdentifier: {
    // Only disagreement is scored here (agreement is the deterministic rule): the same
    // system with different values. m: a mistyped SSN, ~1% of true pairs.
    disagree: { m: 0.01, u: 0.9999 },
  },
} as const satisfies Record<string, Record<string, Level>>;

export type FieldName = keyof typeof FIELD_LEVELS;
export type Outcome<F extends FieldName = FieldName> = keyof (typeof FIELD_LEVELS)[F] | 'missing';

/** The weight in bits of one level: log2(m/u). */
export function levelWeight(level: Level): number {
  return Math.log2(level.m / level.u);
}

/** How one field compared, and the bits it added. No values, so evidence can be stored and shown without PHI. */
export interface FieldEvidence {
  field: FieldName;
  outcome: string;
  weight: number;
}

/** A Fellegi-Sunter comparison: the score in bits and each field's contribution. */
export interface Comparison {
  score: number;
  evidence: FieldEvidence[];
  outcomes: { [F in FieldName]: Outcome<F> };
}

/** Jaro-Winkler at or above this counts as a typo of the same name. */
export const TYPO_SIMILARITY = 0.9;

/**
 * Compares two records field by field. `strongSystems` are the identifier systems whose
 * disagreement counts against a match (SSN, enterprise ids, cross-reference systems).
 */
export function compareRecords(a: MatchRecord, b: MatchRecord, strongSystems: readonly string[] = []): Comparison {
  const outcomes = {
    family: compareFamily(a, b),
    given: compareGiven(a.given, b.given),
    birthDate: compareBirthDate(a.birthDate, b.birthDate),
    gender: a.gender && b.gender && a.gender !== 'unknown' && b.gender !== 'unknown' ? (a.gender === b.gender ? 'agree' : 'disagree') : 'missing',
    address: compareAddress(a, b),
    phone: a.phone && b.phone ? (a.phone === b.phone ? 'agree' : 'disagree') : 'missing',
    strongIdentifier: strongIdentifiersDisagree(a, b, strongSystems) ? 'disagree' : 'missing',
  } as Comparison['outcomes'];
  const evidence: FieldEvidence[] = [];
  let score = 0;
  for (const field of Object.keys(FIELD_LEVELS) as FieldName[]) {
    const outcome = outcomes[field] as string;
    const levels = FIELD_LEVELS[field] as Record<string, Level>;
    const weight = outcome === 'missing' ? 0 : levelWeight(levels[outcome]!);
    score += weight;
    evidence.push({ field, outcome, weight: round(weight) });
  }
  return { score: round(score), evidence, outcomes };
}

function compareFamily(a: MatchRecord, b: MatchRecord): Outcome<'family'> {
  if (!a.family || !b.family) return 'missing';
  if (a.family === b.family) return 'exact';
  // A former or maiden name on one side equal to the other's current name.
  if (a.families.includes(b.family) || b.families.includes(a.family)) return 'part';
  const pa = nameParts(a.family);
  const pb = nameParts(b.family);
  if ((pa.length > 1 || pb.length > 1) && pa.some((p) => pb.includes(p))) return 'part';
  const bare = (s: string) => s.replace(/[- ]/g, '');
  if (bare(a.family) === bare(b.family) || isTypo(a.family, b.family)) return 'typo';
  return 'disagree';
}

function compareGiven(a: readonly string[], b: readonly string[]): Outcome<'given'> {
  const fa = a[0];
  const fb = b[0];
  if (!fa || !fb) return 'missing';
  if (fa === fb) return 'exact';
  if (areNicknames(fa, fb)) return 'nickname';
  if (isTypo(fa, fb)) return 'typo';
  // First and middle name swapped, or a middle name used as the first name. Initials do not count.
  if (a.some((x) => x.length > 1 && b.includes(x))) return 'typo';
  return 'disagree';
}

function compareBirthDate(a: string | null, b: string | null): Outcome<'birthDate'> {
  if (!a || !b) return 'missing';
  if (a === b) return 'exact';
  const [ya, ma, da] = a.split('-');
  const [yb, mb, db] = b.split('-');
  if (ya === yb && ma === db && da === mb) return 'transposed';
  if (a.length === b.length && [...a].filter((ch, i) => ch !== b[i]).length === 1) return 'typo';
  const same = Number(ya === yb) + Number(ma === mb) + Number(da === db);
  return same === 2 ? 'partial' : 'disagree';
}

function compareAddress(a: MatchRecord, b: MatchRecord): Outcome<'address'> {
  if (a.addressLine && b.addressLine) {
    if (a.addressLine === b.addressLine && (!a.postalCode || !b.postalCode || a.postalCode === b.postalCode)) return 'full';
    if (a.postalCode && b.postalCode && a.postalCode === b.postalCode) return 'zip';
    return 'disagree';
  }
  if (a.postalCode && b.postalCode) return a.postalCode === b.postalCode ? 'zip' : 'disagree';
  return 'missing';
}

/** Both records carry a value for one strong system, and no value of that system is shared. */
export function strongIdentifiersDisagree(a: MatchRecord, b: MatchRecord, systems: readonly string[]): boolean {
  for (const system of systems) {
    const va = a.identifiers.filter((i) => i.system === system).map((i) => i.value);
    const vb = b.identifiers.filter((i) => i.system === system).map((i) => i.value);
    if (va.length && vb.length && !va.some((v) => vb.includes(v))) return true;
  }
  return false;
}

/** A strong identifier `system|value` both records carry, if any. */
export function sharedStrongIdentifier(a: MatchRecord, b: MatchRecord, systems: readonly string[]): string | undefined {
  for (const ia of a.identifiers) {
    if (!systems.includes(ia.system)) continue;
    if (b.identifiers.some((ib) => ib.system === ia.system && ib.value === ia.value)) return `${ia.system}|${ia.value}`;
  }
  return undefined;
}

/**
 * A typing slip: one edit apart (for names of three letters or more, where one letter is
 * not the whole difference between two names such as AL and ED), or Jaro-Winkler >= 0.9.
 */
function isTypo(a: string, b: string): boolean {
  return (Math.min(a.length, b.length) >= 3 && isOneEdit(a, b)) || jaroWinkler(a, b) >= TYPO_SIMILARITY;
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
