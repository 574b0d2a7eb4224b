import 'reflect-metadata';
import { type GraphQLSchema } from 'graphql';
import { applyMiddleware, type IMiddlewareTypeMap } from 'graphql-middleware';
import { buildSchema } from 'type-graphql';
import { buildDeidMiddleware } from '../permissions/deid-middleware.js';
import { buildPermissionMiddleware } from '../permissions/index.js';
import { resolvers } from '../resolvers/index.js';
import { buildAuditMiddleware } from './audit-middleware.js';

// type-graphql insists on a PubSub once a schema has subscriptions, even when each one brings
// its own `subscribe` (the event feed's is the database tail); none uses topics.
const UNUSED_PUBSUB = {
  publish() {
    throw new Error('subscriptions here bring their own subscribe; there are no topics to publish to');
  },
  subscribe() {
    throw new Error('subscriptions here bring their own subscribe; there are no topics');
  },
};

/** The schema as the code declares it, without permissions (for emitting and for walking). */
export async function buildBareSchema(): Promise<GraphQLSchema> {
  // Validation of inputs is done by GraphQL types and in resolvers; class-validator is not used.
  return buildSchema({ resolvers: [...resolvers], validate: false, pubSub: UNUSED_PUBSUB });
}

/**
 * The served schema: every field wrapped by graphql-shield (deny by default), with the audit
 * middleware outside it (so refusals are audited) and de-identification inside it (so only
 * permitted fields are rewritten). `security: false` leaves all three out: only for the
 * benchmark's baseline, never served.
 */
export async function buildGatewaySchema(opts: { security?: boolean } = {}): Promise<GraphQLSchema> {
  const bare = await buildBareSchema();
  if (opts.security === false) return bare;
  return applyMiddleware(
    bare,
    buildAuditMiddleware(bare) as IMiddlewareTypeMap,
    buildPermissionMiddleware(bare),
    buildDeidMiddleware(bare) as IMiddlewareTypeMap,
  );
}
