import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import {
  BREAK,
  getNamedType,
  getNullableType,
  GraphQLError,
  isListType,
  isObjectType,
  Kind,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLObjectType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
  type ValueNode,
  visit,
} from 'graphql';
import { BadUserInputError } from '../../errors/errors.js';

/** Limits on the shape of operations (config `limits`). */
export interface OperationLimits {
  maxCost: number;
  maxPatientsPerRequest: number;
  maxCohortsPerRequest: number;
  maxStringLength: number;
}

/** Page size a connection gets when the query gives no `first` (resolvers/pagination.ts). */
const DEFAULT_FIRST = 50;

function tooComplex(message: string, limit: string, max: number, actual: number, nodes?: OperationDefinitionNode): GraphQLError {
  return new GraphQLError(message, {
    nodes,
    extensions: { code: 'GRAPHQL_VALIDATION_FAILED', limit, max, actual, http: { status: 400 } },
  });
}

function fragmentsOf(document: DocumentNode): Map<string, FragmentDefinitionNode> {
  return new Map(document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]));
}

/** What graphql-armor's rules get from `limits`. */
export interface ArmorLimits {
  maxDepth: number;
  maxAliases: number;
  maxDirectives: number;
}

/** The shape of graphql-armor's `onReject` callbacks. */
type ArmorRejectCallback = (ctx: ValidationContext | null, err: GraphQLError) => void;

/**
 * Reports an armor rejection with our code and the limit: armor's message ("Query depth
 * limit of 6 exceeded, found 7.") without its misleading "Syntax Error:" prefix, plus
 * `extensions.limit`, `max` and `actual` (from the message; armor gives no number).
 */
function reportLimit(limit: string, max: number): ArmorRejectCallback {
  return (ctx, err) => {
    const actual = Number(/found (\d+)/.exec(err.message)?.[1]);
    ctx?.reportError(
      new GraphQLError(err.message.replace(/^Syntax Error: /, ''), {
        extensions: { code: 'GRAPHQL_VALIDATION_FAILED', limit, max, ...(Number.isFinite(actual) && { actual }) },
      }),
    );
  };
}

/**
 * Depth, alias and directive limits from graphql-armor, as validation rules; with
 * `hideSuggestions`, its plugin that strips "Did you mean ..." from errors (no schema
 * hints where introspection is off). Armor's token limit is left out (graphql's own
 * `maxTokens` parse option does it before any syntax tree is built), and so is its cost
 * model: ours below counts list sizes from `first` and `ids`.
 */
export function armorProtection(limits: ArmorLimits, opts: { hideSuggestions: boolean }): { validationRules: ValidationRule[]; plugins: ApolloServerPlugin[] } {
  const rule = (limit: string, n: number) => ({ n, propagateOnRejection: false, onReject: [reportLimit(limit, n)] });
  const { validationRules, plugins } = new ApolloArmor({
    maxDepth: { ...rule('depth', limits.maxDepth), flattenFragments: true, ignoreIntrospection: true },
    maxAliases: rule('aliases', limits.maxAliases),
    maxDirectives: rule('directives', limits.maxDirectives),
    costLimit: { enabled: false },
    maxTokens: { enabled: false },
    blockFieldSuggestion: { enabled: opts.hideSuggestions },
  }).protect();
  // Armor's types name Apollo's CommonJS build; the plugin objects are the same at run time.
  return { validationRules, plugins: plugins as unknown as ApolloServerPlugin[] };
}

/**
 * Validation rule: subscriptions are not served over this HTTP endpoint. Without it
 * `subscription { x }` passes validation (graphql 16 has no rule for a missing root type)
 * and fails in execution as an internal error.
 */
export const noSubscriptionOverHttpRule: ValidationRule = (context) => ({
  OperationDefinition(node) {
    if (node.operation !== 'subscription') return;
    context.reportError(
      new GraphQLError('Subscriptions are not served over HTTP POST', { nodes: node, extensions: { code: 'GRAPHQL_VALIDATION_FAILED', limit: 'operationType' } }),
    );
  },
});

/** The first string longer than `max` in a variables value, with where it is (`input.lastName`, `ids[3]`). */
function longStringIn(value: unknown, max: number, path: string, depth = 0): string | null {
  if (typeof value === 'string') return value.length > max ? path : null;
  if (depth > 20 || value === null || typeof value !== 'object') return null;
  const entries = Array.isArray(value) ? value.map((v, i) => [`${path}[${i}]`, v] as const) : Object.entries(value).map(([k, v]) => [`${path}.${k}`, v] as const);
  for (const [p, v] of entries) {
    const found = longStringIn(v, max, p, depth + 1);
    if (found) return found;
  }
  return null;
}

/** The argument (or input field) of the first string literal longer than `max` in the document. */
function longLiteralIn(document: DocumentNode, max: number): string | null {
  let found = null as string | null;
  visit(document, {
    Argument(node) {
      if (found) return BREAK;
      const inner = (value: ValueNode, path: string): void => {
        if (found) return;
        if (value.kind === Kind.STRING && value.value.length > max) found = path;
        else if (value.kind === Kind.LIST) value.values.forEach((v, i) => inner(v, `${path}[${i}]`));
        else if (value.kind === Kind.OBJECT) value.fields.forEach((f) => inner(f.value, `${path}.${f.name.value}`));
      };
      inner(node.value, node.name.value);
      return false;
    },
    VariableDefinition(node) {
      if (node.defaultValue?.kind === Kind.STRING && node.defaultValue.value.length > max) found = `$${node.variable.name.value}`;
      return false;
    },
  });
  return found;
}

/**
 * Every string a request gives (argument literals, variables, input fields, list items)
 * is at most `max` characters, whatever its field: checked here, once, before execution,
 * so an over-long filter never reaches an EHR or a payer. The answer names the argument
 * or variable, never the value.
 */
export function checkStringLengths(
  document: DocumentNode,
  variables: Record<string, unknown> | undefined,
  max: number,
  /** Literal findings per document, for callers that see the same documents again (the plugin). */
  literals?: WeakMap<DocumentNode, string | null>,
): void {
  let literal = literals?.get(document);
  if (literal === undefined) {
    literal = longLiteralIn(document, max);
    literals?.set(document, literal);
  }
  const where = literal ?? (variables ? (longStringIn(variables, max, '')?.replace(/^\./, '$') ?? null) : null);
  if (where) {
    throw new BadUserInputError(`\`${where}\` is longer than ${max} characters`, { argument: where, limit: 'stringLength', max, http: { status: 400 } });
  }
}

function valueOf(node: ValueNode | undefined, variables: Record<string, unknown>): unknown {
  if (!node) return undefined;
  switch (node.kind) {
    case Kind.VARIABLE:
      return variables[node.name.value];
    case Kind.INT:
      return Number(node.value);
    case Kind.LIST:
      return node.values;
    case Kind.NULL:
      return null;
    default:
      return undefined;
  }
}

interface CostResult {
  cost: number;
  patients: number;
  /** `cohort` fields, across aliases and fragments. */
  cohorts: number;
}

/**
 * Cost of one criterion value in one cohort statement. A cohort runs one SQL statement for
 * its members and one per breakdown, each joining the facts once per criterion value (an
 * observation is a subquery of its own) and the breakdown once more per dimension; a
 * statement of 100 criteria takes seconds and holds PGlite's one connection meanwhile. At
 * 1,000, one 100-criteria cohort with a three-dimension breakdown costs 500,000 (members 1 +
 * breakdown 4, times 100): two fit the default `maxCost`, three do not.
 */
export const COHORT_CRITERION_COST = 1_000;

/** Criterion values in a `criteria` argument: each list entry counts, each other set field counts 1; at least 1 (a scan of everyone). */
function criteriaCount(node: ValueNode | undefined, variables: Record<string, unknown>): number {
  const countValue = (v: unknown): number => {
    if (v === undefined || v === null) return 0;
    if (Array.isArray(v)) return v.length;
    return 1;
  };
  let n = 0;
  if (node?.kind === Kind.VARIABLE) {
    const v = variables[node.name.value];
    if (v && typeof v === 'object' && !Array.isArray(v)) for (const field of Object.values(v)) n += countValue(field);
  } else if (node?.kind === Kind.OBJECT) {
    for (const f of node.fields) {
      if (f.value.kind === Kind.LIST) n += f.value.values.length;
      else if (f.value.kind === Kind.VARIABLE) n += countValue(variables[f.value.name.value]);
      else if (f.value.kind !== Kind.NULL) n += 1;
    }
  }
  return Math.max(1, n);
}

/** The statements a cohort field's selection runs beside its members query: one per `breakdown`, weighted by its dimensions (following fragments). */
function breakdownWeight(set: SelectionSetNode | undefined, fragments: Map<string, FragmentDefinitionNode>, variables: Record<string, unknown>, seen = new Set<string>()): number {
  let weight = 0;
  for (const s of set?.selections ?? []) {
    if (s.kind === Kind.INLINE_FRAGMENT) weight += breakdownWeight(s.selectionSet, fragments, variables, seen);
    else if (s.kind === Kind.FRAGMENT_SPREAD) {
      const f = fragments.get(s.name.value);
      if (!f || seen.has(f.name.value)) continue;
      seen.add(f.name.value);
      weight += breakdownWeight(f.selectionSet, fragments, variables, seen);
      seen.delete(f.name.value);
    } else if (s.name.value === 'breakdown') {
      const by = valueOf(s.arguments?.find((a) => a.name.value === 'by')?.value, variables);
      weight += 1 + (Array.isArray(by) ? by.length : 1);
    }
  }
  return weight;
}

/**
 * Estimated size of an answer: every object counts 1, multiplied by the length of the
 * lists it sits in. Connection lists (`nodes`, `edges`) count `first` (default 50),
 * `patients(ids:)` counts its ids; other lists count 1 (codings, provenance: small).
 * A root `cohort` field adds `COHORT_CRITERION_COST` per criterion value per statement
 * weight (1 for its members, 1 + dimensions per breakdown): its SQL, not its answer, is
 * what costs. Also counts the patients and cohorts the operation asks for, across aliases.
 */
export function estimateCost(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown>): CostResult {
  const fragments = fragmentsOf(document);
  let patients = 0;
  let cohorts = 0;
  const walk = (set: SelectionSetNode | undefined, parent: GraphQLObjectType, listSize: number, seen: Set<string>, atRoot: boolean): number => {
    let cost = 0;
    for (const s of set?.selections ?? []) {
      if (s.kind === Kind.INLINE_FRAGMENT) {
        const t = s.typeCondition ? schema.getType(s.typeCondition.name.value) : parent;
        cost += walk(s.selectionSet, isObjectType(t) ? t : parent, listSize, seen, atRoot);
        continue;
      }
      if (s.kind === Kind.FRAGMENT_SPREAD) {
        const f = fragments.get(s.name.value);
        if (!f || seen.has(f.name.value)) continue;
        const t = schema.getType(f.typeCondition.name.value);
        seen.add(f.name.value);
        cost += walk(f.selectionSet, isObjectType(t) ? t : parent, listSize, seen, atRoot);
        seen.delete(f.name.value);
        continue;
      }
      const def = parent.getFields()[s.name.value];
      if (!def) continue;
      const named = getNamedType(def.type);
      if (!isObjectType(named)) continue;
      const arg = (name: string) => valueOf(s.arguments?.find((a) => a.name.value === name)?.value, variables);
      let multiplier = 1;
      let childList = 1;
      if (atRoot && s.name.value === 'cohort') {
        cohorts += 1;
        const criteria = s.arguments?.find((a) => a.name.value === 'criteria')?.value;
        cost += COHORT_CRITERION_COST * criteriaCount(criteria, variables) * (1 + breakdownWeight(s.selectionSet, fragments, variables));
      }
      if (atRoot && s.name.value === 'patients') {
        const ids = arg('ids');
        multiplier = Array.isArray(ids) ? ids.length : 1;
        patients += multiplier;
      } else if (atRoot && named.name === 'Patient') {
        patients += 1;
      }
      if (named.name.endsWith('Connection')) {
        const first = arg('first');
        childList = typeof first === 'number' ? first : DEFAULT_FIRST;
        // A cohort's page is patients too: five cohorts of 1,000 would load 5,000 patients' links.
        if (atRoot && (named.name === 'PatientConnection' || named.name === 'CohortConnection')) patients += childList;
      }
      const inList = isListType(getNullableType(def.type)) && (s.name.value === 'nodes' || s.name.value === 'edges') ? listSize : 1;
      cost += multiplier * inList * (1 + walk(s.selectionSet, named, childList, seen, false));
    }
    return cost;
  };
  const root = operation.operation === 'mutation' ? schema.getMutationType() : operation.operation === 'subscription' ? schema.getSubscriptionType() : schema.getQueryType();
  const cost = root ? walk(operation.selectionSet, root, 1, new Set(), true) : 0;
  return { cost, patients, cohorts };
}

/** Most variable shapes remembered per operation (a client paging with many `first` values). */
const MAX_COST_SHAPES = 64;

/**
 * What of a variable's value the estimate uses: a list's length, a number, an input
 * object's fields (a cohort's `criteria` counts its set fields and their lists), or nothing.
 * Two requests whose read variables have the same shapes have the same estimate.
 */
function shapeOfValue(value: unknown): string {
  if (Array.isArray(value)) return `[${value.length}]`;
  if (typeof value === 'number') return String(value);
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${k}:${shapeOfValue((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return value === null || value === undefined ? '_' : '-';
}

/**
 * {@link estimateCost} remembered per parsed document (Apollo's document store hands out
 * the same DocumentNode for the same text) and operation, and by the shapes of the
 * operation's variables: the id of the patient asked for changes nothing, `first` does.
 */
export function createCostEstimator(): (schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown>) => CostResult {
  const memo = new WeakMap<OperationDefinitionNode, Map<string, CostResult>>();
  return (schema, document, operation, variables) => {
    const key = (operation.variableDefinitions ?? []).map((d) => shapeOfValue(variables[d.variable.name.value])).join('\u0000');
    let costs = memo.get(operation);
    const hit = costs?.get(key);
    if (hit) return hit;
    const result = estimateCost(schema, document, operation, variables);
    if (!costs || costs.size >= MAX_COST_SHAPES) memo.set(operation, (costs = new Map()));
    costs.set(key, result);
    return result;
  };
}

/**
 * The limits that need the variables: string lengths, the cost estimate and the numbers of
 * patients and cohorts one request may ask for (summed over aliases, so two `patients` fields cannot
 * double the cap). Throws the refusal (HTTP 400 on the HTTP endpoint); the event streams
 * run it on subscriptions too.
 */
export function checkOperationLimits(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown> | undefined,
  limits: OperationLimits,
  /** Per-document work kept across requests, for a caller that sees the same documents again (the plugin). */
  memo?: { literals: WeakMap<DocumentNode, string | null>; estimate: ReturnType<typeof createCostEstimator> },
): void {
  checkStringLengths(document, variables, limits.maxStringLength, memo?.literals);
  const { cost, patients, cohorts } = (memo?.estimate ?? estimateCost)(schema, document, operation, variables ?? {});
  if (cost > limits.maxCost) {
    throw tooComplex(`Operation is too expensive: estimated cost ${cost}, at most ${limits.maxCost} allowed`, 'cost', limits.maxCost, cost);
  }
  if (patients > limits.maxPatientsPerRequest) {
    throw new BadUserInputError(`at most ${limits.maxPatientsPerRequest} patients per request (this one asks for ${patients})`, {
      limit: 'patients',
      max: limits.maxPatientsPerRequest,
      http: { status: 400 },
    });
  }
  if (cohorts > limits.maxCohortsPerRequest) {
    throw new BadUserInputError(`at most ${limits.maxCohortsPerRequest} cohorts per request (limits.maxCohortsPerRequest; this one asks for ${cohorts})`, {
      limit: 'maxCohortsPerRequest',
      max: limits.maxCohortsPerRequest,
      actual: cohorts,
      http: { status: 400 },
    });
  }
}

/** Apollo plugin running {@link checkOperationLimits} before execution. */
export function limitsPlugin(limits: OperationLimits): ApolloServerPlugin {
  // Both per parsed document, which Apollo's document store reuses for a repeated text.
  const memo = { literals: new WeakMap<DocumentNode, string | null>(), estimate: createCostEstimator() };
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, operation, request }) {
          if (!operation) return;
          checkOperationLimits(schema, document, operation, request.variables, limits, memo);
        },
      };
    },
  };
}
