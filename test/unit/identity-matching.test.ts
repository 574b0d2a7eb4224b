import type { Patient } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { FIELD_LEVELS, levelWeight } from '../../identity/fellegi-sunter.js';
import { decideMatch, DEFAULT_MATCH_SETTINGS } from '../../identity/match-decision.js';
import { toMatchRecord } from '../../identity/match-record.js';
import { jaroWinkler } from '../../identity/string-similarity.js';

const SSN = 'http://hl7.org/fhir/sid/us-ssn';
const base: Patient = {
  resourceType: 'Patient',
  name: [{ use: 'official', family: 'Hoeger', given: ['Robert'] }],
  gender: 'male',
  birthDate: '1961-03-09',
  address: [{ use: 'home', line: ['22 Main Street'], postalCode: '02118' }],
  telecom: [{ system: 'phone', value: '555-111-2222' }],
  identifier: [{ system: SSN, value: '999-11-2222' }],
};
const variant = (change: Partial<Patient>): Patient => ({ ...structuredClone(base), ...change });
const decide = (b: Patient, settings = DEFAULT_MATCH_SETTINGS) => decideMatch(toMatchRecord(base), toMatchRecord(b), settings);

describe('Jaro-Winkler', () => {
  it('gives the textbook values', () => {
    expect(jaroWinkler('MARTHA', 'MARHTA')).toBeCloseTo(0.9611, 4);
    expect(jaroWinkler('DWAYNE', 'DUANE')).toBeCloseTo(0.84, 2);
    expect(jaroWinkler('ABC', 'XYZ')).toBe(0);
  });
});

describe('decideMatch', () => {
  it('links a shared SSN deterministically, with no score threshold', () => {
    const d = decide(variant({ name: [{ family: 'Hoeger', given: ['Bob'] }], address: [], telecom: [] }));
    expect(d).toMatchObject({ outcome: 'link', method: 'identifier' });
  });

  it('holds a shared SSN whose birth date and name disagree as a possible match', () => {
    const d = decide(variant({ name: [{ family: 'Hoeger', given: ['Linda'] }], birthDate: '1988-11-30' }));
    expect(d).toMatchObject({ outcome: 'possible', method: 'identifier', held: 'identifier-conflict' });
  });

  it('links a nickname, no SSN and same address on demographics, with the weights written down', () => {
    const d = decide(variant({ name: [{ family: 'HOEGER', given: ['Bob'] }], identifier: [] }));
    expect(d.outcome).toBe('link');
    expect(d.method).toBe('demographic');
    const w = (f: keyof typeof FIELD_LEVELS, l: string) => levelWeight((FIELD_LEVELS[f] as Record<string, { m: number; u: number }>)[l]!);
    const expected = w('family', 'exact') + w('given', 'nickname') + w('birthDate', 'exact') + w('gender', 'agree') + w('address', 'full') + w('phone', 'agree');
    expect(d.score).toBeCloseTo(expected, 2);
    expect(d.evidence.find((e) => e.field === 'strongIdentifier')).toEqual({ field: 'strongIdentifier', outcome: 'missing', weight: 0 });
  });

  it('scores day and month swapped as a weaker agreement', () => {
    const d = decide(variant({ birthDate: '1961-09-03', identifier: [] }));
    expect(d.evidence.find((e) => e.field === 'birthDate')!.outcome).toBe('transposed');
    expect(d.outcome).toBe('link');
  });

  it('takes a one-letter slip in the given name for a typo with its own weight, not a conflict', () => {
    for (const given of ['Robret', 'Rober', 'Roberto', 'Ribert']) {
      const d = decide(variant({ name: [{ family: 'Hoeger', given: [given] }], identifier: [] }));
      expect(d.evidence.find((e) => e.field === 'given'), given).toEqual({ field: 'given', outcome: 'typo', weight: 3.737 });
      expect(d.outcome, given).toBe('link');
    }
  });

  it('takes one mistyped digit of the birth date for a typo, and a wholly different day for a conflict', () => {
    const slip = decide(variant({ birthDate: '1961-03-08', identifier: [] }));
    expect(slip.evidence.find((e) => e.field === 'birthDate')!.outcome).toBe('typo');
    expect(slip.outcome).toBe('link');
    const other = decide(variant({ birthDate: '1961-03-27', identifier: [] }));
    expect(other).toMatchObject({ outcome: 'possible', held: 'birth-date-conflict' });
  });

  it('holds given names one slip apart when the genders differ (ERIC and ERICA are twins more often than typos)', () => {
    const d = decide(variant({ name: [{ family: 'Hoeger', given: ['Roberta'] }], gender: 'female', identifier: [] }));
    expect(d.evidence.find((e) => e.field === 'given')!.outcome).toBe('typo');
    expect(d).toMatchObject({ outcome: 'possible', held: 'given-name-gender-conflict' });
  });

  it('does not take two short names one letter apart for a typo (AL and ED are two names)', () => {
    const short: Patient = { ...structuredClone(base), name: [{ family: 'Hoeger', given: ['Al'] }], identifier: [] };
    const d = decideMatch(toMatchRecord(short), toMatchRecord({ ...short, name: [{ family: 'Hoeger', given: ['Ed'] }] }), DEFAULT_MATCH_SETTINGS);
    expect(d).toMatchObject({ outcome: 'possible', held: 'given-name-conflict' });
  });

  it('never auto-links twins (same family, birth date, address, phone; other given name)', () => {
    const d = decide(variant({ name: [{ family: 'Hoeger', given: ['Ronald'] }], identifier: [] }));
    expect(d.score).toBeGreaterThan(DEFAULT_MATCH_SETTINGS.autoLinkThreshold);
    expect(d).toMatchObject({ outcome: 'possible', held: 'given-name-conflict' });
  });

  it('never auto-links two records with different SSNs', () => {
    const d = decide(variant({ identifier: [{ system: SSN, value: '999-11-2223' }] }));
    expect(d).toMatchObject({ outcome: 'possible', held: 'identifier-mismatch' });
  });

  it('treats missing values as neutral and follows the configured thresholds', () => {
    const sparse = variant({ identifier: [], address: undefined, telecom: undefined, gender: undefined });
    const d = decide(sparse);
    expect(d.evidence.filter((e) => e.outcome === 'missing').map((e) => e.field)).toEqual(['gender', 'address', 'phone', 'strongIdentifier']);
    expect(decide(sparse, { ...DEFAULT_MATCH_SETTINGS, autoLinkThreshold: d.score + 1 }).outcome).toBe('possible');
    expect(decide(sparse, { ...DEFAULT_MATCH_SETTINGS, autoLinkThreshold: d.score + 2, possibleMatchThreshold: d.score + 1 }).outcome).toBe('none');
  });
});
