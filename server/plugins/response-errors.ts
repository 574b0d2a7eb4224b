import type { ApolloServerPlugin } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import type { Logger } from 'pino';
import { isDatabaseUnavailable } from '../../datasources/cache/database-health.js';
import { CacheUnavailableError, ChartgraphError } from '../../errors/errors.js';
import type { RequestContext } from '../../resolvers/context.js';
import { ScalarInputError } from '../../schema/scalars.js';

// Codes Apollo itself gives to request errors (bad syntax, failed validation, bad
// variables): those are safe and useful to the client.
const APOLLO_REQUEST_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
]);

export const MASKED_MESSAGE = 'Internal server error';

/**
 * What the log keeps of an unexpected error: its type, code and stack frames, not its
 * message. Messages of database and library errors can quote the values they were given
 * (names, birth dates, identifiers), and logs must never hold patient data.
 */
export function errorForLog(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { type: typeof err };
  const code = (err as { code?: unknown }).code;
  return {
    type: err.constructor.name,
    ...(typeof code === 'string' && { code }),
    frames: (err.stack ?? '').split('\n').filter((line) => line.trimStart().startsWith('at ')).slice(0, 15).map((l) => l.trim()),
  };
}

// Errors already logged by the plugin below with the request's logger (which carries the
// request id the client is shown); formatError logs only the others (context creation).
const loggedWithRequestId = new WeakSet<object>();

function isUnexpected(original: unknown, code: unknown): boolean {
  // An unreachable database is logged once per outage by its health tracker, not per request.
  if (isDatabaseUnavailable(original)) return false;
  return !(original instanceof ChartgraphError) && !(typeof code === 'string' && APOLLO_REQUEST_CODES.has(code));
}

/** The scalar refusal somewhere in an error's cause chain, if any. */
function scalarRefusal(error: unknown): ScalarInputError | undefined {
  for (let e: unknown = error, i = 0; e instanceof Error && i < 5; e = (e as GraphQLError).originalError, i++) {
    if (e instanceof ScalarInputError) return e;
  }
  return undefined;
}

/**
 * An error Apollo raised about the request itself without giving it a code (a persisted
 * query whose hash does not match, an unsupported persisted-query version): it says HTTP
 * 400 and wraps nothing, so it is the client's mistake, not an internal one.
 */
function isUncodedRequestError(error: unknown): boolean {
  if (!(error instanceof GraphQLError) || error.extensions.code !== undefined || error.originalError || error.path) return false;
  const http = error.extensions.http as { status?: number } | undefined;
  return http?.status === 400;
}

/**
 * Apollo `formatError`: our typed errors and Apollo's request errors go out as they are;
 * an unreachable cache database becomes CACHE_UNAVAILABLE (and is reported to `database`);
 * anything else is logged here and replaced by a bare INTERNAL_SERVER_ERROR, since its
 * message may hold internals or patient data.
 */
export function createFormatError(logger: Logger, database?: { reportFailure(error: unknown): boolean }) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    if (original instanceof ChartgraphError) return formatted;
    // A field that needed the database while it is unreachable: say so, without its detail.
    if (isDatabaseUnavailable(original)) {
      database?.reportFailure(original);
      return { ...new CacheUnavailableError().toJSON(), path: formatted.path };
    }
    const refusal = scalarRefusal(error);
    if (refusal) {
      // A refused literal arrives as GRAPHQL_VALIDATION_FAILED, a refused variable with the
      // value quoted in the message; both become BAD_USER_INPUT with the scalar's own message.
      const variable = /^Variable "\$([A-Za-z0-9_]+)"/.exec(formatted.message)?.[1];
      const { locations, path } = formatted;
      return { message: variable ? `Variable "$${variable}": ${refusal.message}` : refusal.message, locations, path, extensions: { code: 'BAD_USER_INPUT' } };
    }
    if (isUncodedRequestError(error)) return { message: formatted.message, extensions: { code: 'BAD_REQUEST' } };
    const code = formatted.extensions?.code;
    if (typeof code === 'string' && APOLLO_REQUEST_CODES.has(code)) return formatted;
    if (!(typeof original === 'object' && original !== null && loggedWithRequestId.has(original))) {
      logger.error({ err: errorForLog(original), path: formatted.path }, 'unexpected error in a GraphQL request');
    }
    return { message: MASKED_MESSAGE, path: formatted.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
  };
}

/**
 * Adds the partial errors resolvers collected (a failed source next to good data) to the
 * response, and the request id to every masked internal error so support can find the log.
 */
export function responseErrorsPlugin(): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors, contextValue }) {
          if (!contextValue?.logger) return;
          for (const e of errors) {
            const original = unwrapResolverError(e);
            if (!isUnexpected(original, e.extensions?.code) || typeof original !== 'object' || original === null) continue;
            contextValue.logger.error({ err: errorForLog(original), path: e.path }, 'unexpected error in a GraphQL request');
            loggedWithRequestId.add(original);
          }
        },
        async willSendResponse({ response, contextValue }) {
          if (response.body.kind !== 'single') return;
          const result = response.body.singleResult;
          const partial = contextValue.partialErrors?.list ?? [];
          if (partial.length > 0) result.errors = [...(result.errors ?? []), ...partial];
          if (result.errors && contextValue.requestId) {
            result.errors = result.errors.map((e) =>
              e.extensions?.code === 'INTERNAL_SERVER_ERROR' ? { ...e, extensions: { ...e.extensions, requestId: contextValue.requestId } } : e,
            );
          }
        },
      };
    },
  };
}
