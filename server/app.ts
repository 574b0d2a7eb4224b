import { randomUUID } from 'node:crypto';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { fastifyApolloDrainPlugin, fastifyApolloHandler } from '@as-integrations/fastify';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { ChartgraphConfig } from '../config/config.schema.js';
import { createRequestContext, type RequestContext } from '../resolvers/context.js';
import { createAuthenticator } from './auth.js';
import { createFormatError, responseErrorsPlugin } from './plugins/response-errors.js';
import { buildGatewaySchema } from './schema.js';
import { createGatewayServices, type RunningServices, type ServiceOptions } from './services.js';

export interface GatewayOptions extends Partial<ServiceOptions> {
  logger: Logger;
  /** Overrides `config.server.port` (0 = any free port, for tests). */
  port?: number;
  /** Where dev mode keeps its signing secret (tests use a temp file). */
  devSecretFile?: string;
}

export interface Gateway {
  /** Base URL, e.g. http://127.0.0.1:4000 */
  url: string;
  fastify: FastifyInstance;
  services: RunningServices;
  close(): Promise<void>;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{8,128}$/;

/** Starts the gateway: cache database, upstream clients, Apollo on Fastify at `/graphql`. */
export async function startGateway(config: ChartgraphConfig, opts: GatewayOptions): Promise<Gateway> {
  const { logger } = opts;
  const services = await createGatewayServices(config, opts);
  const authenticator = createAuthenticator(config.auth, { secretFile: opts.devSecretFile });
  const production = config.server.production;

  const fastify = Fastify({
    // No Fastify logger: request URLs can carry query text with identifiers, so the
    // onResponse hook below logs its own patient-free line instead.
    bodyLimit: 1024 * 1024,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
  });

  const apollo = new ApolloServer<RequestContext>({
    schema: await buildGatewaySchema(),
    introspection: config.server.introspection ?? !production,
    includeStacktraceInErrorResponses: false,
    formatError: createFormatError(logger),
    plugins: [fastifyApolloDrainPlugin(fastify), responseErrorsPlugin(), ApolloServerPluginLandingPageDisabled()],
  });
  await apollo.start();

  fastify.get('/healthz', async () => ({ status: 'ok' }));
  fastify.get('/readyz', async (_req, reply) => {
    const database = await services.database.prisma.$queryRaw`SELECT 1`.then(
      () => 'ok',
      () => 'unreachable',
    );
    const sources = config.sources.map((s) => ({ id: s.id, status: services.health.status(s.id).status }));
    const ready = database === 'ok';
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', database, sources });
  });

  const graphql = fastifyApolloHandler(apollo, {
    context: async (request) => {
      const principal = await authenticator.verify(request.headers.authorization);
      return createRequestContext(services, { principal, requestId: String(request.id) });
    },
  });
  fastify.route({ method: ['GET', 'POST', 'OPTIONS'], url: '/graphql', handler: graphql });
  fastify.addHook('onResponse', async (request, reply) => {
    logger.info(
      { requestId: request.id, method: request.method, route: request.routeOptions.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) },
      'request',
    );
  });
  fastify.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  const address = await fastify.listen({ port: opts.port ?? config.server.port, host: config.server.host });
  const url = address.replace('[::1]', 'localhost');
  let closed = false;
  return {
    url,
    fastify,
    services,
    async close() {
      if (closed) return;
      closed = true;
      await fastify.close();
      await apollo.stop();
      await services.close();
    },
  };
}
