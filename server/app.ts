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
import { createGraphiql, graphiqlEnabled } from './graphiql.js';
import { createMetrics } from './metrics.js';
import { EXPLAIN_HEADER, ExplainCollector, currentExplainCollector, explainPlugin, runWithExplainCollector, wantsExplain } from './plugins/explain.js';
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
  close(): Promise<void>;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{8,128}$/;

/** The GraphQL `extensions` of a request: the POST body's object, or the GET query's JSON text. */
function requestExtensions(body: unknown, query: unknown): Record<string, unknown> | undefined {
  const fromBody = (body as { extensions?: unknown } | null | undefined)?.extensions;
  if (typeof fromBody === 'object' && fromBody !== null) return fromBody as Record<string, unknown>;
  const fromQuery = (query as { extensions?: unknown } | null | undefined)?.extensions;
  if (typeof fromQuery !== 'string') return undefined;
  try {
    const parsed = JSON.parse(fromQuery) as unknown;
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

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

  const apollo = new ApolloServer<RequestContext>({
    schema: await buildGatewaySchema({ security }),
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
    context: async (request, reply) => {
      const principal = await authenticator.verify(request.headers.authorization);
      if (rateLimiter) {
        const decision = await rateLimiter.consume(`sub:${principal.sub}`);
        if (!decision.allowed) throw new RateLimitedError(decision.retryAfterSec);
      }
      const explain = currentExplainCollector();
      // The client going away (response closed before it was finished) cancels the request's upstream calls.
      const gone = new AbortController();
      reply.raw.once('close', () => {
        if (!reply.raw.writableFinished) gone.abort();
      });
      const ctx = createRequestContext(services, {
        principal,
        requestId: String(request.id),
        signal: gone.signal,
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
      // The explain scope only for requests that ask: an AsyncLocalStorage scope costs every
      // request it covers (async hooks on each promise).
      const header = request.headers[EXPLAIN_HEADER];
      if (!wantsExplain(typeof header === 'string' ? header : undefined, requestExtensions(request.body, request.query))) {
        return graphql.call(fastify, request, reply);
      }
      // Each request's upstream calls reach its explain collector through this async scope.
      return runWithExplainCollector(new ExplainCollector(), () => graphql.call(fastify, request, reply));
    },
  });
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
    async close() {
      if (closed) return;
      closed = true;
      await fastify.close();
      await apollo.stop();
      await rateLimiter?.close();
      await services.close();
    },
  };
}
