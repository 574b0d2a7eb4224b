import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';

// FHIR dates may be partial (a year, a year and month), so these scalars accept every
// precision FHIR allows and pass the value through unchanged, instead of graphql-scalars'
// Date/DateTime, which would reject or re-format partial values.
const FHIR_DATE = /^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$/;
const FHIR_DATE_TIME =
  /^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01])(T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d{1,9})?(Z|[+-]((0\d|1[0-3]):[0-5]\d|14:00))?)?)?)?$/;

/**
 * Whether the date part of a FHIR date or dateTime names a real day: year 0001 or later
 * (FHIR has no year 0000), and a day that its month has (leap years included).
 */
export function isCalendarDate(value: string): boolean {
  const [y, m, d] = value.slice(0, 10).split('-').map(Number);
  if (!y) return false;
  if (m === undefined || d === undefined) return true;
  const daysInMonth = new Date(Date.UTC(2000, m, 0)).getUTCDate() - (m === 2 && !isLeapYear(y) ? 1 : 0);
  return d <= daysInMonth;
}

function isLeapYear(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

/**
 * Thrown for an input value the scalar refuses. It carries BAD_USER_INPUT so that a bad
 * literal is reported like a bad variable (formatError reads it), and it never quotes the
 * value: a birth date is patient data.
 */
export class ScalarInputError extends GraphQLError {
  constructor(message: string) {
    super(message, { extensions: { code: 'BAD_USER_INPUT' } });
    this.name = 'ScalarInputError';
  }
}

function fhirScalar(name: string, pattern: RegExp, description: string): GraphQLScalarType<string, string> {
  const check = (value: unknown): string => {
    if (typeof value !== 'string' || !pattern.test(value) || !isCalendarDate(value)) {
      throw new ScalarInputError(`${name} must be a FHIR ${name === 'Date' ? 'date (YYYY, YYYY-MM or YYYY-MM-DD)' : 'dateTime'} of a real calendar day`);
    }
    return value;
  };
  return new GraphQLScalarType({
    name,
    description,
    // Strict on what clients send; lenient on what sources sent: a server that writes a date
    // slightly off the FHIR pattern must not cost the client the whole field.
    serialize: (value) => {
      if (typeof value === 'string') return value;
      if (value instanceof Date) return value.toISOString();
      throw new TypeError(`${name} cannot represent a non-string value`);
    },
    parseValue: check,
    parseLiteral(ast) {
      if (ast.kind !== Kind.STRING) throw new ScalarInputError(`${name} must be a string`);
      return check(ast.value);
    },
  });
}

export const DateScalar = fhirScalar(
  'Date',
  FHIR_DATE,
  'A FHIR date: YYYY, YYYY-MM or YYYY-MM-DD. Partial dates are kept as the source sent them.',
);

export const DateTimeScalar = fhirScalar(
  'DateTime',
  FHIR_DATE_TIME,
  'A FHIR dateTime: a date of any precision, or a date and time with seconds and, when the source gave one, a time-zone offset.',
);
