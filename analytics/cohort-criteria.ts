import type { CodeToken, CohortFilter, ObservationFilter } from '../datasources/population/cohort-store.js';
import { normalizeFactQuantity } from '../datasources/population/fact-values.js';
import { BadUserInputError } from '../errors/errors.js';

/** How an observation criterion reads a patient's values. */
export type ObservationMatch = 'LATEST' | 'ANY';

/** The cohort criteria as the API takes them (see `CohortCriteria` in the schema). */
export interface CohortCriteriaInput {
  conditions?: string[] | null;
  observations?: { code: string; minValue?: number | null; maxValue?: number | null; unit?: string | null; since?: string | null; match?: ObservationMatch | null }[] | null;
  medications?: string[] | null;
  encounterSince?: string | null;
  gender?: string | null;
  ageMin?: number | null;
  ageMax?: number | null;
  payers?: string[] | null;
  sources?: string[] | null;
}

/** Longest list one criterion takes, and longest string in it. */
export const MAX_CRITERION_VALUES = 100;
export const MAX_CRITERION_LENGTH = 256;
/**
 * Most observation criteria in one cohort. Each is a subquery of its own (every value of
 * the code, sorted per patient for LATEST), not one more value in an OR like a condition
 * code: 100 of them took seconds over 302 people, and PGlite cannot cut a statement short.
 */
export const MAX_OBSERVATION_CRITERIA = 20;
const MAX_AGE = 150;

function list(values: string[] | null | undefined, argument: string): string[] | undefined {
  if (!values) return undefined;
  if (values.length > MAX_CRITERION_VALUES) throw new BadUserInputError(`\`${argument}\` takes at most ${MAX_CRITERION_VALUES} values`, { argument });
  values.forEach((v, i) => {
    if (v.trim() === '' || v.length > MAX_CRITERION_LENGTH) throw new BadUserInputError(`\`${argument}[${i}]\` must be 1 to ${MAX_CRITERION_LENGTH} characters`, { argument: `${argument}[${i}]` });
  });
  return values.length > 0 ? values.map((v) => v.trim()) : undefined;
}

/** A FHIR token (`system|code`, `|code` or `code`) as the store matches it. */
export function parseToken(value: string, argument: string): CodeToken {
  const bar = value.indexOf('|');
  if (bar < 0) return { code: value };
  const code = value.slice(bar + 1);
  if (code === '' || code.includes('|')) throw new BadUserInputError(`\`${argument}\` must be a token \`system|code\` or \`code\``, { argument });
  return { system: value.slice(0, bar), code };
}

/** `today` minus `years`, as `YYYY-MM-DD` (29 February falls back to 28 in other years). */
export function yearsBefore(today: Date, years: number): string {
  const y = today.getUTCFullYear() - years;
  const m = today.getUTCMonth();
  const lastDay = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  const d = Math.min(today.getUTCDate(), lastDay);
  return `${String(y).padStart(4, '0')}-${String(m + 1).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

function dateArg(value: string | null | undefined, argument: string, yearOnly: boolean): Date | undefined {
  if (!value) return undefined;
  // The Date scalar has checked the shape; an analyst's dates count from the first day of their year.
  const text = yearOnly ? value.slice(0, 4) : value;
  const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/.exec(text);
  if (!m) throw new BadUserInputError(`\`${argument}\` must be a date`, { argument });
  return new Date(Date.UTC(Number(m[1]), m[2] ? Number(m[2]) - 1 : 0, m[3] ? Number(m[3]) : 1));
}

function observation(o: NonNullable<CohortCriteriaInput['observations']>[number], i: number, yearOnly: boolean): ObservationFilter {
  const at = `criteria.observations[${i}]`;
  if (!o.code?.trim() || o.code.length > MAX_CRITERION_LENGTH) throw new BadUserInputError(`\`${at}.code\` must be 1 to ${MAX_CRITERION_LENGTH} characters`, { argument: `${at}.code` });
  const code = parseToken(o.code.trim(), `${at}.code`);
  if (o.unit !== undefined && o.unit !== null && (o.unit.trim() === '' || o.unit.length > 64)) throw new BadUserInputError(`\`${at}.unit\` must be 1 to 64 characters`, { argument: `${at}.unit` });
  for (const k of ['minValue', 'maxValue'] as const) {
    const v = o[k];
    if (v !== undefined && v !== null && !Number.isFinite(v)) throw new BadUserInputError(`\`${at}.${k}\` must be a finite number`, { argument: `${at}.${k}` });
  }
  if (o.minValue != null && o.maxValue != null && o.minValue > o.maxValue) throw new BadUserInputError(`\`${at}.minValue\` is above \`maxValue\``, { argument: `${at}.minValue` });
  // Bounds go through the same normalisation as stored values, so both sides share one unit.
  const loinc = code.system === undefined || code.system === 'http://loinc.org' ? code.code : '';
  const norm = (value: number) => (o.unit ? normalizeFactQuantity({ code: loinc, value, unit: o.unit, ucumCode: o.unit }) : { value, unit: null });
  const min = o.minValue != null ? norm(o.minValue) : undefined;
  const max = o.maxValue != null ? norm(o.maxValue) : undefined;
  const unit = o.unit ? (min?.unit ?? max?.unit ?? norm(0).unit ?? o.unit) : undefined;
  return {
    code,
    ...(min && { min: min.value }),
    ...(max && { max: max.value }),
    ...(unit && { unit }),
    ...(o.since && { since: dateArg(o.since, `${at}.since`, yearOnly) }),
    match: o.match ?? 'LATEST',
  };
}

/**
 * Checks cohort criteria and turns them into the store's filter: tokens parsed, ages into
 * birth-date bounds as of `today`, observation bounds normalised. `yearOnly` (analysts) cuts
 * every date criterion to the first day of its year, as Safe Harbor cuts dates in answers.
 * Bad input throws BAD_USER_INPUT naming the argument.
 */
export function toCohortFilter(input: CohortCriteriaInput, opts: { today: Date; sourceIds: readonly string[]; yearOnly?: boolean }): CohortFilter {
  const yearOnly = opts.yearOnly ?? false;
  const filter: CohortFilter = {};
  const conditions = list(input.conditions, 'criteria.conditions');
  if (conditions) filter.conditions = conditions.map((c, i) => parseToken(c, `criteria.conditions[${i}]`));
  const medications = list(input.medications, 'criteria.medications');
  if (medications) filter.medications = medications.map((c, i) => parseToken(c, `criteria.medications[${i}]`));
  if (input.observations) {
    if (input.observations.length > MAX_OBSERVATION_CRITERIA) {
      throw new BadUserInputError(`\`criteria.observations\` takes at most ${MAX_OBSERVATION_CRITERIA} criteria`, { argument: 'criteria.observations', max: MAX_OBSERVATION_CRITERIA });
    }
    if (input.observations.length > 0) filter.observations = input.observations.map((o, i) => observation(o, i, yearOnly));
  }
  const encounterSince = dateArg(input.encounterSince, 'criteria.encounterSince', yearOnly);
  if (encounterSince) filter.encounterSince = encounterSince;
  if (input.gender) filter.gender = input.gender;
  for (const k of ['ageMin', 'ageMax'] as const) {
    const v = input[k];
    if (v !== undefined && v !== null && (!Number.isInteger(v) || v < 0 || v > MAX_AGE)) throw new BadUserInputError(`\`criteria.${k}\` must be 0 to ${MAX_AGE}`, { argument: `criteria.${k}` });
  }
  if (input.ageMin != null && input.ageMax != null && input.ageMin > input.ageMax) throw new BadUserInputError('`criteria.ageMin` is above `ageMax`', { argument: 'criteria.ageMin' });
  if (input.ageMin != null) filter.bornOnOrBefore = yearsBefore(opts.today, input.ageMin);
  if (input.ageMax != null) filter.bornAfter = yearsBefore(opts.today, input.ageMax + 1);
  const payers = list(input.payers, 'criteria.payers');
  if (payers) filter.payers = payers;
  const sources = list(input.sources, 'criteria.sources');
  if (sources) {
    sources.forEach((s, i) => {
      if (!opts.sourceIds.includes(s)) throw new BadUserInputError(`\`criteria.sources[${i}]\` is not a configured FHIR source`, { argument: `criteria.sources[${i}]` });
    });
    filter.sources = sources;
  }
  return filter;
}
