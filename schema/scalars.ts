import { GraphQLScalarType, Kind } from 'graphql';

// FHIR dates may be partial (a year, a year and month), so these scalars accept every
// precision FHIR allows and pass the value through unchanged, instead of graphql-scalars'
// Date/DateTime, which would reject or re-format partial values.
const FHIR_DATE = /^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$/;
const FHIR_DATE_TIME =
  /^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01])(T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d{1,9})?(Z|[+-]((0\d|1[0-3]):[0-5]\d|14:00))?)?)?)?$/;

function fhirScalar(name: string, pattern: RegExp, description: string): GraphQLScalarType<string, string> {
  const check = (value: unknown): string => {
    if (typeof value !== 'string' || !pattern.test(value)) {
      throw new TypeError(`${name} must be a FHIR ${name === 'Date' ? 'date (YYYY, YYYY-MM or YYYY-MM-DD)' : 'dateTime'}`);
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
      if (ast.kind !== Kind.STRING) throw new TypeError(`${name} must be a string`);
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
