import {
  getNamedType,
  getNullableType,
  isListType,
  isNonNullType,
  isObjectType,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLOutputType,
  type GraphQLSchema,
} from 'graphql';
import { deidentifyAddress, FREE_TEXT_FIELDS, isPseudonym, MAX_SPECIFIC_AGE, ageInYears, redactedValue, yearOnly, type Deidentifier } from '../deid/index.js';
import { BadUserInputError, ForbiddenError } from '../errors/errors.js';
import type { FieldMiddleware, FieldMiddlewareMap } from './middleware-types.js';
import type { Principal } from './roles.js';

/** What the middleware reads from the request context (kept structural). */
interface DeidContext {
  principal?: Principal | null;
  services?: { deid?: Deidentifier };
}

type Transform = (value: unknown, deid: Deidentifier) => unknown;
type ArgsTransform = (args: Record<string, unknown>, deid: Deidentifier) => Promise<Record<string, unknown> | null> | Record<string, unknown>;

const DATE_SCALARS = new Set(['Date', 'DateTime']);
// Any id that is not one of ours makes the lookup miss: the nil UUID names no patient.
const NO_PATIENT = '00000000-0000-0000-0000-000000000000';

/** True for the role whose every answer is de-identified. */
export function isDeidentifiedRole(principal: Principal | null | undefined): boolean {
  return principal?.role === 'analyst';
}

function mapLeaves(value: unknown, f: (v: unknown) => unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => mapLeaves(v, f));
  return value === null || value === undefined ? value : f(value);
}

function unwrapLeaf(type: GraphQLOutputType | GraphQLInputType): { list: boolean; nonNull: boolean } {
  return { list: isListType(getNullableType(type)), nonNull: isNonNullType(type) };
}

async function patientIdArg(value: unknown, argument: string, deid: Deidentifier): Promise<string> {
  if (typeof value !== 'string' || !isPseudonym(value)) {
    throw new BadUserInputError(`\`${argument}\` must be a de-identified patient id (analysts never see unified ids)`, { argument });
  }
  const [unified] = await deid.index.resolve([value]);
  return unified ?? NO_PATIENT;
}

/** Field-specific rewrites, by `Type.field`. */
function specialTransforms(): Record<string, Transform> {
  return {
    'Patient.id': (v, d) => d.pseudonyms.patientId(String(v)),
    'Patient.mergedFrom': (v, d) => (v as string[]).map((id) => d.pseudonyms.patientId(id)),
    // A year that shows an age over 89 is withheld too (Safe Harbor groups those ages).
    'Patient.birthDate': (v, d) => {
      const age = ageInYears(v as string, d.now());
      return age === null || age > MAX_SPECIFIC_AGE ? null : yearOnly(v as string);
    },
    'Patient.addresses': (v) => (v as object[]).map((a) => deidentifyAddress(a)),
    // When the store was filled is no date of a patient's.
    'CohortFreshness.asOf': (v) => v,
    'CohortFreshness.oldestFetchedAt': (v) => v,
  };
}

/**
 * graphql-middleware field map that de-identifies every answer for analysts (HIPAA Safe
 * Harbor) and leaves every other role's answer untouched. Built from the schema, so fields
 * added later are covered by type: every Date/DateTime value (and argument) is cut to the
 * year; the `id` of every item with provenance and the patient id become keyed
 * pseudonyms; free-text fields go (see deid/free-text.ts); addresses keep state and a
 * 3-digit ZIP. `patient(id:)` and `patients(ids:)` take pseudonyms and look up the unified
 * ids. Apply it inside graphql-shield, so that fields the rules refuse never get here.
 */
export function buildDeidMiddleware(schema: GraphQLSchema): FieldMiddlewareMap {
  const special = specialTransforms();
  const map: FieldMiddlewareMap = {};
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    const fields = type.getFields();
    const hasProvenance = 'provenance' in fields;
    for (const field of Object.values(fields)) {
      const out = outputTransform(type.name, field, hasProvenance, special);
      const args = argsTransform(type.name, field);
      if (!out && !args) continue;
      (map[type.name] ??= {})[field.name] = middlewareFor(out, args);
    }
  }
  return map;
}

function outputTransform(typeName: string, field: GraphQLField<unknown, unknown>, hasProvenance: boolean, special: Record<string, Transform>): Transform | null {
  const key = `${typeName}.${field.name}`;
  if (special[key]) return special[key]!;
  if (FREE_TEXT_FIELDS[typeName]?.includes(field.name)) {
    const redacted = redactedValue(unwrapLeaf(field.type));
    return () => redacted;
  }
  if (hasProvenance && field.name === 'id') return (v, d) => d.pseudonyms.resourceId(String(v));
  if (DATE_SCALARS.has(getNamedType(field.type).name)) return (v) => mapLeaves(v, (x) => yearOnly(String(x)));
  return null;
}

function argsTransform(typeName: string, field: GraphQLField<unknown, unknown>): ArgsTransform | null {
  if (typeName === 'Query' && field.name === 'patient') {
    return async (args, d) => ({ ...args, id: await patientIdArg(args.id, 'id', d) });
  }
  if (typeName === 'Query' && field.name === 'patients') {
    return async (args, d) => {
      const ids = args.ids as unknown[];
      ids.forEach((id, i) => {
        if (typeof id !== 'string' || !isPseudonym(id)) {
          throw new BadUserInputError(`\`ids[${i}]\` must be a de-identified patient id (analysts never see unified ids)`, { argument: `ids[${i}]` });
        }
      });
      const unified = await d.index.resolve(ids as string[]);
      return { ...args, ids: unified.map((u) => u ?? NO_PATIENT) };
    };
  }
  // A day-precise `since` would let an analyst bisect the exact date of an event.
  const dateArgs = field.args.filter((a) => DATE_SCALARS.has(getNamedType(a.type).name)).map((a) => a.name);
  if (dateArgs.length === 0) return null;
  return (args) => {
    const next = { ...args };
    for (const name of dateArgs) if (typeof next[name] === 'string') next[name] = yearOnly(next[name] as string);
    return next;
  };
}

function middlewareFor(out: Transform | null, argsFn: ArgsTransform | null): FieldMiddleware {
  return (resolve, root, args, ctx: DeidContext, info) => {
    // Everyone else pays one comparison: no promise, no copy.
    if (!isDeidentifiedRole(ctx?.principal)) return resolve(root, args, ctx, info);
    const deid = ctx.services?.deid;
    if (!deid) return new ForbiddenError('De-identified access is not configured on this gateway');
    const finish = (value: unknown) => (out && value !== null && value !== undefined && !(value instanceof Error) ? out(value, deid) : value);
    const run = (a: Record<string, unknown>) => {
      const value = resolve(root, a, ctx, info);
      return value instanceof Promise ? value.then(finish) : finish(value);
    };
    if (!argsFn) return run(args);
    const next = argsFn(args, deid);
    return next instanceof Promise ? next.then((a) => run(a ?? args)) : run(next ?? args);
  };
}
