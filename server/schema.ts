import 'reflect-metadata';
import { type GraphQLSchema } from 'graphql';
import { applyMiddleware } from 'graphql-middleware';
import { buildSchema } from 'type-graphql';
import { buildPermissions } from '../permissions/index.js';
import { resolvers } from '../resolvers/index.js';

/** The schema as the code declares it, without permissions (for emitting and for walking). */
export async function buildBareSchema(): Promise<GraphQLSchema> {
  // Validation of inputs is done by GraphQL types and in resolvers; class-validator is not used.
  return buildSchema({ resolvers: [...resolvers], validate: false });
}

/** The served schema: every field wrapped by graphql-shield, deny by default. */
export async function buildGatewaySchema(): Promise<GraphQLSchema> {
  return applyMiddleware(await buildBareSchema(), buildPermissions());
}
