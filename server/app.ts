import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { fastifyApolloDrainPlugin, fastifyApolloHandler } from '@as-integrations/fastify';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { ChartgraphConfig } from '../config/config.schema.js';
import { createRequestContext, type RequestContext } from '../resolvers/context.js';
import { RateLimitedError } from '../errors/errors.js';
import { ROLES } from '../permissions/roles.js';
import { createAuthenticator, mintDevToken } from './auth.js';
import { startEventFeed, type RunningEventFeed } from './event-feed.js';
import { registerEventStreams } from './event-stream.js';
import { createGraphiql, graphiqlEnabled } from './graphiql.js';
import { createMetrics } from './metrics.js';
import { ExplainCollector, currentExplainCollector, explainPlugin, runWithExplainCollector } from './plugins/explain.js';
import { auditPlugin } from './plugins/audit.js';
import { limitsPlugin, maxAliasesRule, maxDepthRule } from './plugins/limits.js';
import { createFormatError, responseErrorsPlugin } from './plugins/response-errors.js';
import { createRateLimiter } from './rate-limit.js';
import { buildGatewaySchema } from './schema.js';
import { loadMigrations } from '../datasources/cache/migrator.js';
import { createGatewayServices, type RunningServices, type ServiceOptions } from './services.js';

export interface GatewayOptions extends Partial<ServiceOptions> {
  logger: Logger;
  /** Overrides `config.server.port` (0 = any free port, for tests). */
  port?: number;
  /** Where dev mode keeps its signing secret (tests use a temp file). */
  devSecretFile?: string;
  /** GraphiQL offers a dev token per role (the demo); only honoured with `auth.mode: dev`. */
  graphiqlDevTokens?: boolean;
  /**
   * Benchmark baseline only: serve the schema without graphql-shield, audit and
   * de-identification, to measure what they cost. Never for real traffic.
   */
  withoutSecurity?: boolean;
}

export interface Gateway {
  /** Base URL, e.g. http://127.0.0.1:4000 */
  url: string;
  fastify: FastifyInstance;
  services: RunningServices;
  /** The care-coordination event feed: pollers, FHIR Subscriptions, the table follower. */
  eventFeed: RunningEventFeed;
  close(): Promise<void>;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{8,128}$/;

/** Starts the gateway: cache database, upstream clients, Apollo on Fastify at `/graphql`. */
export async function startGateway(config: ChartgraphConfig, opts: GatewayOptions): Promise<Gateway> {
  const { logger } = opts;
  const metrics = createMetrics({
    sourceIds: config.sources.map((s) => s.id),
    sourceStatus: (id) => services.health.status(id).status,
  });
  const services = await createGatewayServices(config, {
    ...opts,
    deidKeyFile: opts.deidKeyFile ?? (opts.devSecretFile ? path.join(path.dirname(opts.devSecretFile), 'deid-key') : undefined),
    onUpstreamCall: (call) => {
      opts.onUpstreamCall?.(call);
      metrics.upstreamCall(call);
      currentExplainCollector()?.recordCall(call);
    },
  });
  const authenticator = createAuthenticator(config.auth, { secretFile: opts.devSecretFile });
  const production = config.server.production;
  if (production && config.auth.mode === 'dev') {
    // Dev tokens are signed with a local secret: anyone who can read it can mint any role.
    logger.warn('server.production is on with auth.mode dev: configure an OIDC issuer before serving real patient data');
  }
  const rateLimiter = createRateLimiter(config.limits.rateLimit, logger);
  const security = !opts.withoutSecurity;

  const fastify = Fastify({
    // No Fastify logger: request URLs can carry query text with identifiers, so the
    // onResponse hook below logs its own patient-free line instead.
    bodyLimit: 1024 * 1024,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
  });

  const schema = await buildGatewaySchema({ security });
  const apollo = new ApolloServer<RequestContext>({
    schema,
    introspection: config.server.introspection ?? !production,
    // A JSON array of operations multiplies every per-request limit; off unless configured.
    allowBatchedHttpRequests: config.limits.batching,
    parseOptions: { maxTokens: config.limits.maxTokens },
    validationRules: [maxDepthRule(config.limits.maxDepth), maxAliasesRule(config.limits.maxAliases)],
    includeStacktraceInErrorResponses: false,
    formatError: createFormatError(logger),
    plugins: [
      fastifyApolloDrainPlugin(fastify),
      responseErrorsPlugin(),
      ApolloServerPluginLandingPageDisabled(),
      // Answers hold patient data: no cache hints, and no per-field hook computing them.
      ApolloServerPluginCacheControlDisabled(),
      metrics.plugin(),
      explainPlugin(),
      limitsPlugin(config.limits),
      ...(security ? [auditPlugin(services.auditWriter)] : []),
    ],
  });
  await apollo.start();

  fastify.get('/healthz', async () => ({ status: 'ok' }));
  fastify.get('/metrics', async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
  const expectedMigrations = (await loadMigrations()).map((m) => m.name);
  fastify.get('/readyz', async (_req, reply) => {
    // Reachable, and every migration this build knows is applied (a replica of an older
    // build beside a newer database is fine; the reverse is not).
    const applied = await services.database.prisma
      .$queryRaw<{ migration_name: string }[]>`SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`
      .then((rows) => new Set(rows.map((r) => r.migration_name)))
      .catch(() => null);
    const database = applied ? 'ok' : 'unreachable';
    const pending = applied ? expectedMigrations.filter((m) => !applied.has(m)).length : null;
    const sources = config.sources.map((s) => ({
      id: s.id,
      status: services.health.status(s.id).status,
      breaker: services.clients.get(s.id)?.breakerState ?? null,
    }));
    const ready = database === 'ok' && pending === 0;
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', database, pendingMigrations: pending, sources });
  });

  const graphql = fastifyApolloHandler(apollo, {
    context: async (request) => {
      const principal = await authenticator.verify(request.headers.authorization);
      if (rateLimiter) {
        const decision = await rateLimiter.consume(`sub:${principal.sub}`);
        if (!decision.allowed) throw new RateLimitedError(decision.retryAfterSec);
      }
      const explain = currentExplainCollector();
      const ctx = createRequestContext(services, {
        principal,
        requestId: String(request.id),
        onCacheLookup: (lookup) => {
          metrics.cacheLookup(lookup);
          explain?.recordCacheLookup(lookup);
        },
      });
      return ctx;
    },
  });
  const graphiql = graphiqlEnabled(config)
    ? await createGraphiql({
        logger,
        devTokens:
          opts.graphiqlDevTokens && config.auth.mode === 'dev'
            ? () => Promise.all(ROLES.map(async (role) => ({ role, token: await mintDevToken(config.auth, { role }, opts.devSecretFile) })))
            : undefined,
      })
    : undefined;
  graphiql?.register(fastify);
  fastify.route<{ Reply: string }>({
    method: ['GET', 'POST', 'OPTIONS'],
    url: '/graphql',
    handler: (request, reply) => {
      if (graphiql?.wantsPage(request)) return graphiql.sendPage(reply);
      // Each request's upstream calls reach its explain collector through this async scope.
      return runWithExplainCollector(new ExplainCollector(), () => graphql.call(fastify, request, reply));
    },
  });
  // Care-coordination events: the feed, its pollers, and subscriptions over SSE and WebSocket.
  const events = await startEventFeed({ config, database: services.database, index: services.index, clients: services.clients, logger, registry: metrics.registry });
  services.events = events.feed;
  const closeEventStreams = registerEventStreams(fastify, { config, schema, services, events, authenticator, rateLimiter, audit: security ? services.auditWriter : undefined, logger });

  fastify.addHook('onResponse', async (request, reply) => {
    logger.info(
      { requestId: request.id, method: request.method, route: request.routeOptions.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) },
      'request',
    );
  });
  fastify.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
    // Patient data must not be kept by browsers or proxies.
    if (request.url.startsWith('/graphql') && !reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
  });

  const address = await fastify.listen({ port: opts.port ?? config.server.port, host: config.server.host });
  const url = address.replace('[::1]', 'localhost');
  let closed = false;
  return {
    url,
    fastify,
    services,
    eventFeed: events,
    async close() {
      if (closed) return;
      closed = true;
      // Ends every subscription first, so open event streams do not hold the server up.
      await events.close();
      await closeEventStreams();
      await fastify.close();
      await apollo.stop();
      await rateLimiter?.close();
      await services.close();
    },
  };
}
