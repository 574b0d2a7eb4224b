import type { ApolloServerPlugin } from '@apollo/server';
import {
  getNamedType,
  getNullableType,
  GraphQLError,
  isListType,
  isObjectType,
  Kind,
  type ASTVisitor,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLObjectType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValueNode,
} from 'graphql';
import { BadUserInputError } from '../../errors/errors.js';

/** Limits on the shape of operations (config `limits`). */
export interface OperationLimits {
  maxDepth: number;
  maxAliases: number;
  maxCost: number;
  maxPatientsPerRequest: number;
}

/** Page size a connection gets when the query gives no `first` (resolvers/pagination.ts). */
const DEFAULT_FIRST = 50;

function tooComplex(message: string, limit: string, max: number, actual: number, nodes?: OperationDefinitionNode): GraphQLError {
  return new GraphQLError(message, {
    nodes,
    extensions: { code: 'GRAPHQL_VALIDATION_FAILED', limit, max, actual, http: { status: 400 } },
  });
}

/** Deepest field nesting below `set`, fragments followed; introspection fields are not counted. */
function depthOf(set: SelectionSetNode | undefined, fragments: Map<string, FragmentDefinitionNode>, seen: Set<string>): number {
  let max = 0;
  for (const s of set?.selections ?? []) {
    if (s.kind === Kind.FIELD) {
      if (s.name.value.startsWith('__')) continue;
      max = Math.max(max, 1 + depthOf(s.selectionSet, fragments, seen));
    } else if (s.kind === Kind.INLINE_FRAGMENT) {
      max = Math.max(max, depthOf(s.selectionSet, fragments, seen));
    } else if (!seen.has(s.name.value)) {
      // A cycle is reported by graphql's own NoFragmentCycles rule; here it just stops.
      seen.add(s.name.value);
      max = Math.max(max, depthOf(fragments.get(s.name.value)?.selectionSet, fragments, seen));
      seen.delete(s.name.value);
    }
  }
  return max;
}

/** Aliases below `set`, counted once per use of a fragment (ten spreads of a fragment with ten aliases are a hundred). */
function aliasesOf(set: SelectionSetNode | undefined, fragments: Map<string, FragmentDefinitionNode>, seen: Set<string>): number {
  let n = 0;
  for (const s of set?.selections ?? []) {
    if (s.kind === Kind.FIELD) n += (s.alias ? 1 : 0) + aliasesOf(s.selectionSet, fragments, seen);
    else if (s.kind === Kind.INLINE_FRAGMENT) n += aliasesOf(s.selectionSet, fragments, seen);
    else if (!seen.has(s.name.value)) {
      seen.add(s.name.value);
      n += aliasesOf(fragments.get(s.name.value)?.selectionSet, fragments, seen);
      seen.delete(s.name.value);
    }
  }
  return n;
}

function fragmentsOf(document: DocumentNode): Map<string, FragmentDefinitionNode> {
  return new Map(document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]));
}

/** Validation rule: no operation nests fields deeper than `max` (introspection excepted). */
export function maxDepthRule(max: number) {
  return (context: ValidationContext): ASTVisitor => ({
    OperationDefinition(node) {
      const depth = depthOf(node.selectionSet, fragmentsOf(context.getDocument()), new Set());
      if (depth > max) context.reportError(tooComplex(`Operation is too deep: ${depth} levels, at most ${max} allowed`, 'depth', max, depth, node));
    },
  });
}

/** Validation rule: no operation uses more than `max` aliases. */
export function maxAliasesRule(max: number) {
  return (context: ValidationContext): ASTVisitor => ({
    OperationDefinition(node) {
      const count = aliasesOf(node.selectionSet, fragmentsOf(context.getDocument()), new Set());
      if (count > max) context.reportError(tooComplex(`Operation uses ${count} aliases, at most ${max} allowed`, 'aliases', max, count, node));
    },
  });
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
}

/**
 * Estimated size of an answer: every object counts 1, multiplied by the length of the
 * lists it sits in. Connection lists (`nodes`, `edges`) count `first` (default 50),
 * `patients(ids:)` counts its ids; other lists count 1 (codings, provenance: small).
 * Also counts the patients the operation asks for, across aliases.
 */
export function estimateCost(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown>): CostResult {
  const fragments = fragmentsOf(document);
  let patients = 0;
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
        if (atRoot && named.name === 'PatientConnection') patients += childList;
      }
      const inList = isListType(getNullableType(def.type)) && (s.name.value === 'nodes' || s.name.value === 'edges') ? listSize : 1;
      cost += multiplier * inList * (1 + walk(s.selectionSet, named, childList, seen, false));
    }
    return cost;
  };
  const root = operation.operation === 'mutation' ? schema.getMutationType() : operation.operation === 'subscription' ? schema.getSubscriptionType() : schema.getQueryType();
  const cost = root ? walk(operation.selectionSet, root, 1, new Set(), true) : 0;
  return { cost, patients };
}

/**
 * Apollo plugin for the limits that need the variables: the cost estimate and the number
 * of patients one request may ask for (summed over aliases, so two `patients` fields cannot
 * double the cap). Runs before execution; both answer HTTP 400.
 */
export function limitsPlugin(limits: OperationLimits): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, operation, request }) {
          if (!operation) return;
          const { cost, patients } = estimateCost(schema, document, operation, request.variables ?? {});
          if (cost > limits.maxCost) {
            throw tooComplex(`Operation is too expensive: estimated cost ${cost}, at most ${limits.maxCost} allowed`, 'cost', limits.maxCost, cost);
          }
          if (patients > limits.maxPatientsPerRequest) {
            const err = new BadUserInputError(`at most ${limits.maxPatientsPerRequest} patients per request (this one asks for ${patients})`, {
              limit: 'patients',
              max: limits.maxPatientsPerRequest,
              http: { status: 400 },
            });
            throw err;
          }
        },
      };
    },
  };
}
