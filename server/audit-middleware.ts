import { getNamedType, isObjectType, Kind, type GraphQLResolveInfo, type GraphQLSchema, type SelectionSetNode } from 'graphql';
import { ForbiddenError } from '../errors/errors.js';
import type { FieldMiddleware, FieldMiddlewareMap } from '../permissions/middleware-types.js';
import { fieldGroupOf, type RequestAuditTrail } from '../resolvers/audit-trail.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PATIENT_TYPES = new Set(['Patient', 'PatientConnection']);
// Root fields that read patient data without returning a Patient: the ad-hoc eligibility
// check sends a member's name and birth date to a payer and returns their benefits.
// A cohort reads every record of the population store to select its members. The audit
// trail and the merge log say who looked at which patient and which records were joined.
// The event feed says what happened to which patient.
const OTHER_PATIENT_READS = new Set(['eligibility', 'cohort', 'auditEvents', 'patientMerges', 'patientEvents']);
/** The field group a root read is audited under when it is not its own name (the feed's, as its subscription). */
const LOOKUP_GROUP: Record<string, string> = { patientEvents: 'events' };

interface AuditContext {
  audit?: RequestAuditTrail;
}

/**
 * graphql-middleware field map that feeds the request's audit trail: every Patient field
 * records its patient and field group, and every root field that finds patients records
 * the lookup. Apply it outside graphql-shield, so refusals are seen and audited as denied.
 */
export function buildAuditMiddleware(schema: GraphQLSchema): FieldMiddlewareMap {
  const map: FieldMiddlewareMap = {};
  const patient = schema.getType('Patient');
  if (isObjectType(patient)) {
    map.Patient = Object.fromEntries(Object.keys(patient.getFields()).map((f) => [f, patientField]));
  }
  const query = schema.getQueryType();
  for (const field of Object.values(query?.getFields() ?? {})) {
    if (PATIENT_TYPES.has(getNamedType(field.type).name) || OTHER_PATIENT_READS.has(field.name)) (map.Query ??= {})[field.name] = patientLookup;
  }
  return map;
}

const patientField: FieldMiddleware = (resolve, root, args, ctx: AuditContext, info) => {
  const trail = ctx?.audit;
  if (!trail) return resolve(root, args, ctx, info);
  const patientId = typeof root?.id === 'string' ? (root.id as string) : undefined;
  const group = fieldGroupOf(info.fieldName);
  // Recorded as asked at once: a field still resolving when a sibling's refusal nulls the
  // patient was asked for all the same.
  trail.asked(patientId, group);
  const settle = (value: unknown) => {
    if (value instanceof ForbiddenError) trail.denied(patientId ? [patientId] : [], group ? [group] : []);
    else trail.read(patientId, group);
    return value;
  };
  return settleOrFail(() => resolve(root, args, ctx, info), settle);
};

const patientLookup: FieldMiddleware = (resolve, root, args, ctx: AuditContext, info) => {
  const trail = ctx?.audit;
  if (!trail) return resolve(root, args, ctx, info);
  trail.lookedUp(info.fieldName);
  const returnsPatients = PATIENT_TYPES.has(getNamedType(info.returnType).name);
  const settle = (value: unknown) => {
    if (value instanceof ForbiddenError) {
      const listed = [...(Array.isArray(args?.ids) ? args.ids : []), ...(Array.isArray(args?.patientIds) ? args.patientIds : [])];
      const ids = [args?.id, ...listed].filter((x): x is string => typeof x === 'string' && UUID.test(x));
      const groups = returnsPatients ? requestedGroups(info) : [LOOKUP_GROUP[info.fieldName] ?? info.fieldName];
      trail.denied(ids, groups.length > 0 ? groups : ['lookup']);
    } else if (!returnsPatients) {
      trail.read(undefined, LOOKUP_GROUP[info.fieldName] ?? info.fieldName);
    }
    return value;
  };
  return settleOrFail(() => resolve(root, args, ctx, info), settle);
};

/** Runs `work` and hands its value, or its thrown error, to `settle` (errors are re-thrown). */
function settleOrFail(work: () => unknown, settle: (value: unknown) => unknown): unknown {
  const fail = (err: unknown) => {
    settle(err);
    throw err;
  };
  let value: unknown;
  try {
    value = work();
  } catch (err) {
    return fail(err);
  }
  return value instanceof Promise ? value.then(settle, fail) : settle(value);
}

/** The field groups a refused lookup asked for, read from its selection (through fragments and connections). */
export function requestedGroups(info: Pick<GraphQLResolveInfo, 'fieldNodes' | 'fragments' | 'returnType'>): string[] {
  const out = new Set<string>();
  type Level = 'patient' | 'connection' | 'edge';
  const visit = (set: SelectionSetNode | undefined, level: Level, depth: number) => {
    if (!set || depth > 20) return;
    for (const s of set.selections) {
      if (s.kind === Kind.INLINE_FRAGMENT) visit(s.selectionSet, level, depth + 1);
      else if (s.kind === Kind.FRAGMENT_SPREAD) visit(info.fragments[s.name.value]?.selectionSet, level, depth + 1);
      else if (level === 'patient') {
        const g = fieldGroupOf(s.name.value);
        if (g) out.add(g);
      } else if (level === 'connection') {
        if (s.name.value === 'nodes') visit(s.selectionSet, 'patient', depth + 1);
        else if (s.name.value === 'edges') visit(s.selectionSet, 'edge', depth + 1);
      } else if (s.name.value === 'node') visit(s.selectionSet, 'patient', depth + 1);
    }
  };
  const start: Level = getNamedType(info.returnType).name === 'Patient' ? 'patient' : 'connection';
  for (const node of info.fieldNodes) visit(node.selectionSet, start, 0);
  return [...out].sort();
}
