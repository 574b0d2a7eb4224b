import type { GraphQLResolveInfo } from 'graphql';

/**
 * One graphql-middleware field function. graphql-middleware's own type insists on a
 * promise; these may answer synchronously, which saves a promise per field on hot paths.
 */
export type FieldMiddleware = (
  resolve: (root: any, args: any, ctx: any, info: GraphQLResolveInfo) => unknown,
  root: any,
  args: any,
  ctx: any,
  info: GraphQLResolveInfo,
) => unknown;

/** Field functions by type, then field: the shape `applyMiddleware` takes. */
export type FieldMiddlewareMap = Record<string, Record<string, FieldMiddleware>>;
