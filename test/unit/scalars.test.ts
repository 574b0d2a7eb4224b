import { describe, expect, it } from 'vitest';
import { Kind } from 'graphql';
import { DateScalar, DateTimeScalar } from '../../schema/scalars.js';

describe('FHIR date scalars', () => {
  it('accept every FHIR precision from clients and refuse anything else', () => {
    for (const v of ['2024', '2024-02', '2024-02-29']) expect(DateScalar.parseValue(v)).toBe(v);
    for (const v of ['2024-02-29T10:15:00Z', '2024-02-29T10:15:00.123+05:30', '2024']) expect(DateTimeScalar.parseValue(v)).toBe(v);
    expect(() => DateScalar.parseValue('2024-13-01')).toThrow('Date must be a FHIR date');
    expect(() => DateScalar.parseLiteral({ kind: Kind.INT, value: '2024' })).toThrow('Date must be a string');
    expect(() => DateTimeScalar.parseValue('yesterday')).toThrow('DateTime must be a FHIR dateTime');
  });

  it('refuse days that no calendar has: Feb 30, Feb 29 outside leap years, April 31, year 0000', () => {
    for (const v of ['2019-02-30', '1988-02-30', '1987-02-29', '1900-02-29', '2023-04-31', '2023-06-31', '0000', '0000-01-01']) {
      expect(() => DateScalar.parseValue(v), v).toThrow('Date must be a FHIR date (YYYY, YYYY-MM or YYYY-MM-DD) of a real calendar day');
    }
    for (const v of ['2019-02-30T10:00:00Z', '0000-01-01T00:00:00Z']) expect(() => DateTimeScalar.parseValue(v), v).toThrow('of a real calendar day');
    for (const v of ['2000-02-29', '2024-02-29', '1988-02-29', '2023-12-31', '0001', '2023-04-30']) expect(DateScalar.parseValue(v)).toBe(v);
    // The refusal never quotes the value (a birth date is patient data) and says BAD_USER_INPUT.
    try {
      DateScalar.parseValue('1988-02-30');
    } catch (err: any) {
      expect(err.message).not.toContain('1988');
      expect(err.extensions.code).toBe('BAD_USER_INPUT');
    }
  });

  it('pass a source’s slightly-off value through rather than fail the field', () => {
    expect(DateTimeScalar.serialize('2024-02-29 10:15:00')).toBe('2024-02-29 10:15:00');
    expect(DateTimeScalar.serialize(new Date('2024-02-29T10:15:00Z'))).toBe('2024-02-29T10:15:00.000Z');
    expect(() => DateTimeScalar.serialize(42)).toThrow();
  });
});
