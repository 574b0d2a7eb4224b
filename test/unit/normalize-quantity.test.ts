import { describe, expect, it } from 'vitest';
import { normalizeQuantity } from '../../units/normalize-quantity.js';

describe('normalizeQuantity', () => {
  it('keeps a value already in the canonical unit, to six significant digits', () => {
    expect(normalizeQuantity({ code: '2339-0', value: 86.42593971044111, ucumCode: 'mg/dL' })).toEqual({ value: 86.4259, unit: 'mg/dL' });
    expect(normalizeQuantity({ code: '2339-0', value: 92.4, unit: 'mg/dL', ucumCode: 'mg/dL' })).toEqual({ value: 92.4, unit: 'mg/dL' });
    expect(normalizeQuantity({ code: '29463-7', value: 71.3, ucumCode: 'kg' })).toEqual({ value: 71.3, unit: 'kg' });
  });

  it('converts glucose between mmol/L and mg/dL with its molecular weight', () => {
    // 5 mmol/L x 180.156 g/mol = 900.78 mg/L = 90.078 mg/dL.
    expect(normalizeQuantity({ code: '2339-0', value: 5, unit: 'mmol/L', ucumCode: 'mmol/L' })).toEqual({ value: 90.078, unit: 'mg/dL' });
    expect(normalizeQuantity({ code: '2345-7', value: 5.5, ucumCode: 'mmol/L' })).toEqual({ value: 99.0858, unit: 'mg/dL' });
    // A moles-per-volume code normalises the other way.
    expect(normalizeQuantity({ code: '14749-6', value: 90.078, ucumCode: 'mg/dL' })).toEqual({ value: 5, unit: 'mmol/L' });
  });

  it('converts creatinine umol/L to mg/dL, and a mg/dL value of a mass code compares equal to its molar twin', () => {
    // 88.4 umol/L x 113.12 g/mol = 10 mg/L... = 0.99998 mg/dL at six digits.
    expect(normalizeQuantity({ code: '2160-0', value: 88.4, ucumCode: 'umol/L' })).toEqual({ value: 0.999981, unit: 'mg/dL' });
    const a = normalizeQuantity({ code: '38483-4', value: 1.2, ucumCode: 'mg/dL' });
    const b = normalizeQuantity({ code: '38483-4', value: (1.2 * 10_000) / 113.12, ucumCode: 'umol/L' });
    expect(b).toEqual(a);
  });

  it('converts within one dimension without a molecular weight (g/L to g/dL, lb to kg, [degF] to Cel)', () => {
    expect(normalizeQuantity({ code: '718-7', value: 140, ucumCode: 'g/L' })).toEqual({ value: 14, unit: 'g/dL' });
    expect(normalizeQuantity({ code: '29463-7', value: 150, ucumCode: '[lb_av]' })).toEqual({ value: 68.0389, unit: 'kg' });
    expect(normalizeQuantity({ code: '8310-5', value: 98.6, ucumCode: '[degF]' })).toEqual({ value: 37, unit: 'Cel' });
    expect(normalizeQuantity({ code: '8310-5', value: 212, ucumCode: '[degF]' })).toEqual({ value: 100, unit: 'Cel' });
  });

  it('converts mEq/L of a monovalent ion to mmol/L by its charge', () => {
    expect(normalizeQuantity({ code: '2951-2', value: 140, ucumCode: 'meq/L' })).toEqual({ value: 140, unit: 'mmol/L' });
    expect(normalizeQuantity({ code: '2951-2', value: 140, unit: 'mEq/L' })).toEqual({ value: 140, unit: 'mmol/L' });
  });

  it('reads the unit text when no UCUM code came, including common non-UCUM spellings and micro signs', () => {
    expect(normalizeQuantity({ code: '8480-6', value: 120, unit: 'mmHg' })).toEqual({ value: 120, unit: 'mm[Hg]' });
    expect(normalizeQuantity({ code: '8310-5', value: 98.6, unit: '°F' })).toEqual({ value: 37, unit: 'Cel' });
    expect(normalizeQuantity({ code: '2160-0', value: 88.4, unit: 'µmol/L' })).toEqual({ value: 0.999981, unit: 'mg/dL' });
    expect(normalizeQuantity({ code: '2339-0', value: 90, unit: 'mg/dl' })).toEqual({ value: 90, unit: 'mg/dL' });
  });

  it('prefers the UCUM code over the display unit', () => {
    expect(normalizeQuantity({ code: '2339-0', value: 5, unit: 'mg/dL (display)', ucumCode: 'mmol/L' })).toEqual({ value: 90.078, unit: 'mg/dL' });
  });

  it('has no normalised value where no conversion exists', () => {
    expect(normalizeQuantity({ code: '72514-3', value: 4, ucumCode: '{score}' })).toBeUndefined(); // no canonical unit listed
    expect(normalizeQuantity({ value: 5, ucumCode: 'mmol/L' })).toBeUndefined(); // no code
    expect(normalizeQuantity({ code: '2339-0', value: 5 })).toBeUndefined(); // no unit
    expect(normalizeQuantity({ code: '2339-0', value: 5, ucumCode: 'furlongs' })).toBeUndefined(); // not UCUM
    expect(normalizeQuantity({ code: '2339-0', value: 5, ucumCode: 'kg' })).toBeUndefined(); // not commensurable
    expect(normalizeQuantity({ code: '4548-4', value: 48, ucumCode: 'mmol/mol' })).toBeUndefined(); // IFCC HbA1c is not a unit conversion of %
    expect(normalizeQuantity({ code: '2339-0', value: Number.NaN, ucumCode: 'mg/dL' })).toBeUndefined();
    expect(normalizeQuantity({ code: '2339-0', value: Number.POSITIVE_INFINITY, ucumCode: 'mmol/L' })).toBeUndefined();
  });

  it('gives the same answer on repeat (the memoised converter agrees with the first call)', () => {
    const first = normalizeQuantity({ code: '8331-1', value: 100.4, ucumCode: '[degF]' });
    const again = normalizeQuantity({ code: '8331-1', value: 100.4, ucumCode: '[degF]' });
    expect(first).toEqual({ value: 38, unit: 'Cel' });
    expect(again).toEqual(first);
    expect(normalizeQuantity({ code: '2339-0', value: 10, ucumCode: 'mmol/L' })).toEqual({ value: 180.156, unit: 'mg/dL' });
    expect(normalizeQuantity({ code: '2339-0', value: 10, ucumCode: 'mmol/L' })).toEqual({ value: 180.156, unit: 'mg/dL' });
  });
});
