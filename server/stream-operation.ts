import { getOperationAST, GraphQLError, NoSchemaIntrospectionCustomRule, parse, specifiedRules, validate, type DocumentNode, type GraphQLSchema, type OperationTypeNode, type ValidationRule } from 'graphql';
import type { ChartgraphConfig } from '../config/config.schema.js';
import { checkDocumentSize } from './plugins/document-size.js';
import { checkOperationLimits } from './plugins/limits.js';

/** What {@link prepareStreamOperation} checks operations against: the HTTP endpoint's limits and rules. */
export interface StreamOperationChecks {
  schema: GraphQLSchema;
  limits: ChartgraphConfig['limits'];
  /** The HTTP endpoint's extra validation rules (graphql-armor's depth, alias and directive limits). */
  validationRules: readonly ValidationRule[];
  introspection: boolean;
}

/** An operation that passed every check, ready to execute. */
export interface PreparedOperation {
  document: DocumentNode;
  operationName?: string;
  operation: OperationTypeNode;
  variableValues?: Record<string, unknown>;
}

/** The refusal of an operation before it ran, in the codes and `extensions.limit` the HTTP endpoint answers. */
export interface RefusedOperation {
  errors: GraphQLError[];
  operationName?: string;
}

/**
 * Checks a subscription (or any operation) sent over SSE or WebSocket as the HTTP endpoint
 * checks a query, in the same order: the field count on the text, parsing under the token
 * limit, validation with graphql-armor's rules, then string lengths, cost and patients
 * with the variables. The transports' own parse and validate would skip all of these.
 * Errors carry no `http` extension (an HTTP status means nothing inside a stream).
 */
export function prepareStreamOperation(
  params: { query?: unknown; operationName?: unknown; variables?: unknown },
  checks: StreamOperationChecks,
): PreparedOperation | RefusedOperation {
  const operationName = typeof params.operationName === 'string' ? params.operationName : undefined;
  const refuse = (errors: readonly GraphQLError[]): RefusedOperation => ({ errors: errors.map(withoutHttp), ...(operationName && { operationName }) });
  if (typeof params.query !== 'string') return refuse([new GraphQLError('Send the operation in `query`', { extensions: { code: 'BAD_REQUEST' } })]);
  const variables = params.variables === undefined || params.variables === null ? undefined : params.variables;
  if (variables !== undefined && (typeof variables !== 'object' || Array.isArray(variables))) {
    return refuse([new GraphQLError('`variables` must be an object', { extensions: { code: 'BAD_REQUEST' } })]);
  }
  const { limits } = checks;
  try {
    checkDocumentSize(params.query, limits);
  } catch (err) {
    if (err instanceof GraphQLError) return refuse([err]);
    throw err;
  }
  let document: DocumentNode;
  try {
    document = parse(params.query, { maxTokens: limits.maxTokens });
  } catch (err) {
    if (!(err instanceof GraphQLError)) throw err;
    return refuse([new GraphQLError(err.message, { nodes: err.nodes, source: err.source, positions: err.positions, extensions: { code: 'GRAPHQL_PARSE_FAILED' } })]);
  }
  const rules = [...specifiedRules, ...checks.validationRules, ...(checks.introspection ? [] : [NoSchemaIntrospectionCustomRule])];
  const invalid = validate(checks.schema, document, rules);
  if (invalid.length > 0) {
    return refuse(invalid.map((e) => (e.extensions?.code ? e : new GraphQLError(e.message, { nodes: e.nodes, extensions: { ...e.extensions, code: 'GRAPHQL_VALIDATION_FAILED' } }))));
  }
  const operation = getOperationAST(document, operationName);
  if (!operation) return refuse([new GraphQLError('Name the operation to run with `operationName`', { extensions: { code: 'BAD_REQUEST' } })]);
  try {
    checkOperationLimits(checks.schema, document, operation, variables as Record<string, unknown> | undefined, limits);
  } catch (err) {
    if (err instanceof GraphQLError) return refuse([err]);
    throw err;
  }
  return { document, operation: operation.operation, ...(operationName && { operationName }), ...(variables !== undefined && { variableValues: variables as Record<string, unknown> }) };
}

export function isRefused(p: PreparedOperation | RefusedOperation): p is RefusedOperation {
  return 'errors' in p;
}

function withoutHttp(e: GraphQLError): GraphQLError {
  if (!e.extensions || !('http' in e.extensions)) return e;
  const { http: _http, ...extensions } = e.extensions;
  return new GraphQLError(e.message, { nodes: e.nodes, source: e.source, positions: e.positions, path: e.path, originalError: e.originalError ?? undefined, extensions });
}
