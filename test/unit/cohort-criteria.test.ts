import { describe, expect, it } from 'vitest';
import { parseToken, toCohortFilter, yearsBefore } from '../../analytics/cohort-criteria.js';
import { extractFacts, fhirDate, PAYER_LABEL_SYSTEM } from '../../datasources/population/fact-extraction.js';

const today = new Date('2026-03-15T12:00:00Z');
const opts = { today, sourceIds: ['mercy', 'stjude'] };

describe('cohort criteria', () => {
  it('parses FHIR tokens: system|code, |code (no system) and code (any system)', () => {
    expect(parseToken('http://snomed.info/sct|44054006', 'x')).toEqual({ system: 'http://snomed.info/sct', code: '44054006' });
    expect(parseToken('|abc', 'x')).toEqual({ system: '', code: 'abc' });
    expect(parseToken('abc', 'x')).toEqual({ code: 'abc' });
    expect(() => parseToken('a|', 'x')).toThrow(expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT', argument: 'x' }) }));
  });

  it('turns ages into birth-date bounds as of today', () => {
    expect(toCohortFilter({ ageMin: 18, ageMax: 64 }, opts)).toEqual({ bornOnOrBefore: '2008-03-15', bornAfter: '1961-03-15' });
    expect(yearsBefore(new Date('2024-02-29T00:00:00Z'), 1)).toBe('2023-02-28');
  });

  it('cuts date criteria to the first day of their year for analysts', () => {
    expect(toCohortFilter({ encounterSince: '2024-07-19' }, opts).encounterSince).toEqual(new Date('2024-07-19T00:00:00Z'));
    expect(toCohortFilter({ encounterSince: '2024-07-19' }, { ...opts, yearOnly: true }).encounterSince).toEqual(new Date('2024-01-01T00:00:00Z'));
    const o = toCohortFilter({ observations: [{ code: 'http://loinc.org|4548-4', minValue: 6.5, unit: '%', since: '2020-05-05' }] }, { ...opts, yearOnly: true });
    expect(o.observations).toEqual([{ code: { system: 'http://loinc.org', code: '4548-4' }, min: 6.5, unit: '%', since: new Date('2020-01-01T00:00:00Z'), match: 'LATEST' }]);
  });

  it('names the argument of every bad value', () => {
    const arg = (f: () => unknown) => {
      try {
        f();
      } catch (e: any) {
        return e.extensions.argument;
      }
      return null;
    };
    expect(arg(() => toCohortFilter({ conditions: [''] }, opts))).toBe('criteria.conditions[0]');
    expect(arg(() => toCohortFilter({ medications: ['x'.repeat(300)] }, opts))).toBe('criteria.medications[0]');
    expect(arg(() => toCohortFilter({ conditions: Array(101).fill('a') }, opts))).toBe('criteria.conditions');
    expect(arg(() => toCohortFilter({ sources: ['mercy', 'elsewhere'] }, opts))).toBe('criteria.sources[1]');
    expect(arg(() => toCohortFilter({ ageMin: -1 }, opts))).toBe('criteria.ageMin');
    expect(arg(() => toCohortFilter({ observations: [{ code: '' }] }, opts))).toBe('criteria.observations[0].code');
    expect(arg(() => toCohortFilter({ observations: [{ code: 'a', minValue: Number.NaN }] }, opts))).toBe('criteria.observations[0].minValue');
  });
});

describe('fact extraction', () => {
  it('keeps one row per coding of a condition, with onset and clinical status, and none for refuted ones', () => {
    const c = {
      resourceType: 'Condition' as const,
      id: 'c1',
      subject: { reference: 'Patient/p' },
      clinicalStatus: { coding: [{ code: 'active' }] },
      code: { coding: [{ system: 'http://snomed.info/sct', code: '44054006' }, { system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'E11.9' }, { display: 'no code' }] },
      onsetDateTime: '2019-04',
    };
    expect(extractFacts(c)).toEqual([
      { resourceType: 'Condition', resourceId: 'c1', system: 'http://snomed.info/sct', code: '44054006', value: null, unit: null, date: new Date('2019-04-01T00:00:00Z'), status: 'active' },
      { resourceType: 'Condition', resourceId: 'c1', system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'E11.9', value: null, unit: null, date: new Date('2019-04-01T00:00:00Z'), status: 'active' },
    ]);
    expect(extractFacts({ ...c, verificationStatus: { coding: [{ code: 'refuted' }] } })).toEqual([]);
  });

  it('keeps observation values and components, and nothing entered in error', () => {
    const o = {
      resourceType: 'Observation' as const,
      id: 'o1',
      status: 'final' as const,
      code: { coding: [{ system: 'http://loinc.org', code: '85354-9' }] },
      effectiveDateTime: '2024-01-02T03:04:05+02:00',
      component: [
        { code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] }, valueQuantity: { value: 120, unit: 'mm[Hg]', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
      ],
    };
    const rows = extractFacts(o);
    expect(rows.map((r) => [r.code, r.value, r.unit, r.date?.toISOString()])).toEqual([
      ['85354-9', null, null, '2024-01-02T01:04:05.000Z'],
      ['8480-6', 120, 'mm[Hg]', '2024-01-02T01:04:05.000Z'],
    ]);
    expect(extractFacts({ ...o, status: 'entered-in-error' as const })).toEqual([]);
  });

  it('keeps the payer of a coverage as its label and identifier', () => {
    const rows = extractFacts({
      resourceType: 'Coverage',
      id: 'cv',
      status: 'active',
      beneficiary: { reference: 'Patient/p' },
      payor: [{ display: 'Medicaid', identifier: { system: 'urn:payer', value: 'SKMCD' } }],
    });
    expect(rows.map((r) => [r.system, r.code, r.status])).toEqual([
      [PAYER_LABEL_SYSTEM, 'Medicaid', 'active'],
      ['urn:payer', 'SKMCD', 'active'],
    ]);
  });

  it('reads partial FHIR dates at their first moment and refuses nonsense', () => {
    expect(fhirDate('2020')?.toISOString()).toBe('2020-01-01T00:00:00.000Z');
    expect(fhirDate('2020-02-03')?.toISOString()).toBe('2020-02-03T00:00:00.000Z');
    expect(fhirDate('soon')).toBeNull();
    expect(fhirDate(undefined)).toBeNull();
  });
});

describe('normalised observation values', () => {
  it('stores and compares glucose in the canonical mg/dL whatever unit the source or the criterion uses', () => {
    const [row] = extractFacts({
      resourceType: 'Observation',
      id: 'g1',
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '2345-7' }] },
      valueQuantity: { value: 5.5, unit: 'mmol/L', system: 'http://unitsofmeasure.org', code: 'mmol/L' },
    });
    expect(row!.unit).toBe('mg/dL');
    expect(row!.value).toBeCloseTo(99.09, 1);
    const [criterion] = toCohortFilter({ observations: [{ code: 'http://loinc.org|2345-7', minValue: 7, unit: 'mmol/L' }] }, opts).observations!;
    expect(criterion!.unit).toBe('mg/dL');
    expect(criterion!.min).toBeCloseTo(126.1, 0);
  });

  it('keeps a value it cannot convert in its own unit, so only criteria in that unit reach it', () => {
    const [row] = extractFacts({
      resourceType: 'Observation',
      id: 'x1',
      status: 'final',
      code: { coding: [{ system: 'urn:local', code: 'score' }] },
      valueQuantity: { value: 3, unit: '{score}' },
    });
    expect([row!.value, row!.unit]).toEqual([3, '{score}']);
  });
});
