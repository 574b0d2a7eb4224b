import { compareRecords, sharedStrongIdentifier, type Comparison, type FieldEvidence } from './fellegi-sunter.js';
import type { MatchRecord } from './match-record.js';

/** Thresholds and identifier systems of the matcher (config `identity`). */
export interface MatchSettings {
  /** Identifier systems that name one person everywhere (SSN, an enterprise id). */
  strongIdentifierSystems: readonly string[];
  /** Further systems that sources share as cross references (an HIE id, another site's MRN). Deterministic like the strong ones. */
  crossReferenceSystems?: readonly string[];
  /** Score (bits) at or above which a demographic match links automatically. */
  autoLinkThreshold: number;
  /** Score (bits) at or above which a demographic match is kept for review. */
  possibleMatchThreshold: number;
}

/**
 * Defaults in bits of likelihood ratio. With no blocking the prior odds that two random
 * records of a regional MPI (~10^6 people) are one person are ~2^-20; an auto-link needs
 * evidence well past that, so that even a block-free comparison would be right >= 99%
 * of the time (2^24 / 2^20 = 16:1 at the threshold, far higher for typical matches, which
 * score 40-55). 12 bits keeps for review what is well short of that but not chance.
 */
export const DEFAULT_MATCH_SETTINGS: MatchSettings = {
  strongIdentifierSystems: ['http://hl7.org/fhir/sid/us-ssn'],
  crossReferenceSystems: [],
  autoLinkThreshold: 24,
  possibleMatchThreshold: 12,
};

/** Settings from config: the defaults, overridden by what is set. */
export function matchSettings(strongIdentifierSystems: readonly string[], overrides: Partial<Omit<MatchSettings, 'strongIdentifierSystems'>> = {}): MatchSettings {
  return {
    ...DEFAULT_MATCH_SETTINGS,
    ...Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)),
    strongIdentifierSystems,
  };
}

/** Why a pair that scored high enough was still not linked automatically. */
export type HoldReason =
  /** Same strong identifier, but birth date and name disagree: a shared or mistyped SSN. */
  | 'identifier-conflict'
  /** Both carry a strong identifier of one system, with different values. */
  | 'identifier-mismatch'
  /** Given names disagree outright: twins and households share everything else. */
  | 'given-name-conflict'
  /** Given names one slip apart but genders differ: ERIC and ERICA are more often twins than a typo. */
  | 'given-name-gender-conflict'
  /** Birth dates disagree (not merely swapped day and month). */
  | 'birth-date-conflict';

/** What to do with a pair of records. */
export interface MatchDecision {
  /** `link`: same person; `possible`: keep for an admin; `none`: different people. */
  outcome: 'link' | 'possible' | 'none';
  /** `identifier` when a shared strong identifier decided, else `demographic`. */
  method: 'identifier' | 'demographic';
  /** Fellegi-Sunter score in bits (computed for every pair, also identifier matches). */
  score: number;
  evidence: FieldEvidence[];
  /** Set when the score alone would have linked (or the identifier matched) but the evidence conflicts. */
  held?: HoldReason;
}

/**
 * Decides whether two source records are one person.
 *
 * 1. A shared strong or cross-reference identifier links deterministically, unless the
 *    demographics contradict it (birth date and a name both disagree): then it is only a
 *    possible match. A shared SSN with a different birth date and name is more often a
 *    family member's SSN used at registration, or a typo, than one person.
 * 2. Otherwise the Fellegi-Sunter score decides against the two thresholds, with guards
 *    where the independence assumption fails: a pair whose given names or birth dates
 *    disagree, or whose strong identifiers differ, never links automatically (twins share
 *    family name, birth date, address and phone; spouses and siblings share address and
 *    phone), however high the rest scores; it can still be a possible match.
 */
export function decideMatch(a: MatchRecord, b: MatchRecord, settings: MatchSettings): MatchDecision {
  const systems = [...settings.strongIdentifierSystems, ...(settings.crossReferenceSystems ?? [])];
  const cmp = compareRecords(a, b, systems);
  const base = { score: cmp.score, evidence: cmp.evidence };
  const o = cmp.outcomes;

  if (sharedStrongIdentifier(a, b, systems)) {
    const birthConflict = o.birthDate === 'disagree' || o.birthDate === 'partial' || o.birthDate === 'typo';
    const nameConflict = o.given === 'disagree' || o.family === 'disagree';
    if (birthConflict && nameConflict) return { outcome: 'possible', method: 'identifier', ...base, held: 'identifier-conflict' };
    return { outcome: 'link', method: 'identifier', ...base };
  }

  if (cmp.score < settings.possibleMatchThreshold) return { outcome: 'none', method: 'demographic', ...base };
  const held = holdReason(cmp);
  if (cmp.score >= settings.autoLinkThreshold && !held) return { outcome: 'link', method: 'demographic', ...base };
  return { outcome: 'possible', method: 'demographic', ...base, ...(held && cmp.score >= settings.autoLinkThreshold && { held }) };
}

function holdReason(cmp: Comparison): HoldReason | undefined {
  const o = cmp.outcomes;
  if (o.strongIdentifier === 'disagree') return 'identifier-mismatch';
  if (o.given === 'disagree') return 'given-name-conflict';
  if (o.given === 'typo' && o.gender === 'disagree') return 'given-name-gender-conflict';
  if (o.birthDate === 'disagree' || o.birthDate === 'partial') return 'birth-date-conflict';
  return undefined;
}
