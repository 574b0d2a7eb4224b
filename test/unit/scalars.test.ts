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

  it('pass a source’s slightly-off value through rather than fail the field', () => {
    expect(DateTimeScalar.serialize('2024-02-29 10:15:00')).toBe('2024-02-29 10:15:00');
    expect(DateTimeScalar.serialize(new Date('2024-02-29T10:15:00Z'))).toBe('2024-02-29T10:15:00.000Z');
    expect(() => DateTimeScalar.serialize(42)).toThrow();
  });
});
