import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { fastifyApolloHandler } from '@as-integrations/fastify';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { ChartgraphConfig } from '../config/config.schema.js';
import { createRequestContext, type RequestContext } from '../resolvers/context.js';
import { ChartgraphError, UnauthenticatedError } from '../errors/errors.js';
import { newAuditRecord } from '../datasources/cache/audit-store.js';
import { ROLES, type Principal } from '../permissions/roles.js';
import { createAuthenticator, mintDevToken } from './auth.js';
import { startEventFeed, type RunningEventFeed } from './event-feed.js';
import { registerEventStreams } from './event-stream.js';
import { createGraphiql, graphiqlEnabled } from './graphiql.js';
import { createMetrics } from './metrics.js';
import { ResponseCache, responseCachePlugin, responseCacheRoute } from './response-cache.js';
import { EXPLAIN_HEADER, ExplainCollector, currentExplainCollector, explainPlugin, runWithExplainCollector, wantsExplain } from './plugins/explain.js';
import { auditPlugin, purposeOfUse, PURPOSE_OF_USE_HEADER } from './plugins/audit.js';
import { createDocumentSizeCheck } from './plugins/document-size.js';
import { armorProtection, limitsPlugin, noSubscriptionOverHttpRule } from './plugins/limits.js';
import { createFormatError, responseErrorsPlugin } from './plugins/response-errors.js';
import { chargeAddress, chargeSubject, createRateLimiter } from './rate-limit.js';
import { buildGatewaySchema } from './schema.js';
import { loadMigrations } from '../datasources/cache/migrator.js';
import type { DatabaseNotes } from '../datasources/cache/database-health.js';
import { databaseOutagePlugin } from './plugins/database-outage.js';
import { createTelemetry } from './telemetry.js';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { createGatewayServices, type RunningServices, type ServiceOptions, type ServicesShutdownStep } from './services.js';

export interface GatewayOptions extends Partial<ServiceOptions> {
  logger: Logger;
  /** Overrides `config.server.port` (0 = any free port, for tests). */
  port?: number;
  /** Where dev mode keeps its signing secret (tests use a temp file). */
  devSecretFile?: string;
  /** GraphiQL offers a dev token per role (the demo); only honoured with `auth.mode: dev`. */
  graphiqlDevTokens?: boolean;
  /** Values for GraphiQL's example tabs' variables, by name (the demo's sandbox MRN and name). */
  graphiqlExamples?: Readonly<Record<string, string>>;
  /**
   * Benchmark baseline only: serve the schema without graphql-shield, audit and
   * de-identification, to measure what they cost. Never for real traffic.
   */
  withoutSecurity?: boolean;
  /** Traces go to this exporter (tests: an in-memory one) instead of `telemetry.otlp`. */
  spanExporter?: SpanExporter;
}

export interface Gateway {
  /** Base URL, e.g. http://127.0.0.1:4000 */
  url: string;
  fastify: FastifyInstance;
  services: RunningServices;
  /** The care-coordination event feed: pollers, FHIR Subscriptions, the table follower. */
  eventFeed: RunningEventFeed;
  /**
   * Stops taking requests, lets those in flight finish (for at most `graceMs`, default
   * 15 s, then their connections are cut), and writes every queued audit event (to the
   * database, or to the spool file when it is unreachable) before closing it. `onStep`
   * hears each stage as it begins, so a caller can say which one a slow shutdown waits on.
   */
  close(opts?: { graceMs?: number; onStep?: (step: ShutdownStep) => void }): Promise<void>;
}

export type ShutdownStep = 'event feed' | 'http server' | 'apollo' | 'rate limiter' | ServicesShutdownStep | 'telemetry';

/** How long in-flight requests may take to finish at shutdown (README: "Operations"). */
export const SHUTDOWN_GRACE_MS = 15_000;

const REQUEST_ID = /^[A-Za-z0-9._-]{8,128}$/;
/** The largest request body accepted (HTTP 413 beyond). */
export const BODY_LIMIT_BYTES = 1024 * 1024;
/** What the demo page says when it leaves the admin token out. */
export const ADMIN_TOKEN_NOTICE = 'The admin dev token is offered only when the gateway listens on loopback (server.host 127.0.0.1, ::1 or localhost).';

/** Whether a listen address is reachable only from this machine. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

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
    sourceStatus: (id) => (services.clients.get(id)?.breakerState === 'open' ? 'DOWN' : services.health.status(id).status),
  });
  const telemetry = createTelemetry(config.telemetry, { exporter: opts.spanExporter });
  const services = await createGatewayServices(config, {
    ...opts,
    deidKeyFile: opts.deidKeyFile ?? (opts.devSecretFile ? path.join(path.dirname(opts.devSecretFile), 'deid-key') : undefined),
    auditSpoolFile: opts.auditSpoolFile ?? (opts.devSecretFile ? path.join(path.dirname(opts.devSecretFile), 'audit-spool.jsonl') : undefined),
    onUpstreamCall: (call) => {
      opts.onUpstreamCall?.(call);
      metrics.upstreamCall(call);
      telemetry?.upstreamCall(call);
      currentExplainCollector()?.recordCall(call);
    },
  });
  const authenticator = createAuthenticator(config.auth, { secretFile: opts.devSecretFile });
  // (`server.production` with `auth.mode: dev` is refused when the config is read.)
  const production = config.server.production;
  const rateLimiter = createRateLimiter(config.limits.rateLimit, logger);
  const security = !opts.withoutSecurity;
  const introspection = config.server.introspection ?? !production;
  const armor = armorProtection(config.limits, { hideSuggestions: !introspection });

  const fastify = Fastify({
    // No Fastify logger: request URLs can carry query text with identifiers, so the
    // onResponse hook below logs its own patient-free line instead.
    bodyLimit: BODY_LIMIT_BYTES,
    trustProxy: config.server.trustProxy ?? false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
  });

  const schema = await buildGatewaySchema({ security });
  // Never longer than links are kept in memory: another replica's merge shows as soon as it would without it.
  const answerMaxAgeMs = Math.min(config.cache.responseMaxAgeSeconds, config.identity.linkCacheSeconds) * 1000;
  const responseCache = answerMaxAgeMs > 0 ? new ResponseCache(schema, answerMaxAgeMs, config.cache.responseMemoryMb * 2 ** 20) : undefined;
  // Without the audit middleware an answer's patients are not known: any link change empties it.
  if (responseCache) services.index.onLinksChanged.add((ids) => (ids && security ? responseCache.forgetPatients(ids) : responseCache.clear()));
  const apollo = new ApolloServer<RequestContext>({
    schema,
    introspection,
    // A JSON array of operations multiplies every per-request limit; off unless configured.
    allowBatchedHttpRequests: config.limits.batching,
    parseOptions: { maxTokens: config.limits.maxTokens },
    validationRules: [...armor.validationRules, noSubscriptionOverHttpRule],
    includeStacktraceInErrorResponses: false,
    // Compact JSON: Apollo's default pretty-prints every answer (indent 2), which costs a
    // cached query more CPU than its execution and adds a third to its bytes.
    stringifyResult: (value) => JSON.stringify(value),
    // The CLI owns SIGINT/SIGTERM (one handler, the documented grace, exit code 0); Apollo's
    // own handler would stop the server early and re-raise the signal (exit 143).
    stopOnTerminationSignals: false,
    formatError: createFormatError(logger, services.databaseHealth),
    plugins: [
      responseErrorsPlugin(),
      databaseOutagePlugin(services.databaseHealth),
      ApolloServerPluginLandingPageDisabled(),
      // Answers hold patient data: no cache hints, and no per-field hook computing them.
      ApolloServerPluginCacheControlDisabled(),
      metrics.plugin(),
      ...(telemetry ? [telemetry.plugin()] : []),
      explainPlugin(),
      ...armor.plugins,
      limitsPlugin(config.limits),
      ...(security ? [auditPlugin(services.auditWriter)] : []),
      // Last: Apollo starts every willSendResponse hook in plugin order, and the ones above
      // add their errors to the answer before their first await, so this one sees them.
      ...(responseCache
        ? [responseCachePlugin(responseCache, { databaseDown: () => services.databaseHealth.down, keptUntil: (ids) => services.index.keptUntil(ids) })]
        : []),
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
    const database = applied ? 'ok' : 'down';
    const pending = applied ? expectedMigrations.filter((m) => !applied.has(m)).length : null;
    const sources = config.sources.map((s) => {
      const health = services.health.report(s.id);
      const breaker = services.clients.get(s.id)?.breakerState ?? null;
      // An open breaker means the source is failing, whatever the last call said (as in `sources`).
      const status = breaker === 'open' ? 'DOWN' : health.status;
      return { id: s.id, status, breaker, p90Ms: health.p90Ms, errorRate: health.errorRate };
    });
    const ready = database === 'ok' && pending === 0;
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', database, pendingMigrations: pending, sources });
  });

  const checkDocumentSize = createDocumentSizeCheck(config.limits);
  // Each GraphQL request's database notes, from the route handler to its context.
  const databaseNotes = new WeakMap<object, DatabaseNotes>();
  const refused = (request: FastifyRequest, principal: { sub: string; role: string } | null, err: ChartgraphError) => {
    if (!security) return;
    services.auditWriter.record(
      newAuditRecord({
        at: new Date(),
        requestId: String(request.id),
        subject: principal?.sub ?? 'anonymous',
        role: principal?.role ?? 'none',
        purposeOfUse: purposeOfUse(request.headers[PURPOSE_OF_USE_HEADER] as string | undefined),
        action: principal ? 'request' : 'authenticate',
        patientIds: [],
        fieldGroups: [],
        outcome: 'denied',
        detail: { errorCodes: [err.code], ...(typeof err.extensions.limit === 'string' && { limit: err.extensions.limit }), ip: request.ip },
      }),
    );
  };
  // Rate limits and the token, once per request: the response cache asks before Apollo does.
  const admitted = new WeakMap<object, Promise<Principal>>();
  const admit = (request: FastifyRequest): Promise<Principal> => {
    let principal = admitted.get(request);
    if (!principal) {
      principal = (async () => {
        const limits = config.limits;
        // Per address before the token is checked: a flood of bad tokens costs a counter, not a signature check each.
        await chargeAddress(rateLimiter, limits.rateLimit, request.ip);
        const verified = await authenticator.verify(request.headers.authorization).catch((err: unknown) => {
          if (err instanceof UnauthenticatedError) refused(request, null, err);
          throw err;
        });
        await chargeSubject(rateLimiter, limits.rateLimit, verified.sub);
        return verified;
      })();
      admitted.set(request, principal);
    }
    return principal;
  };
  const contexts = new WeakMap<object, RequestContext>();
  const cacheRoute = responseCache
    ? responseCacheRoute(responseCache, { admit, audit: security ? (r) => services.auditWriter.record(r) : undefined, counted: (o) => metrics.responseCache(o) })
    : undefined;
  const graphql = fastifyApolloHandler(apollo, {
    context: async (request, reply) => {
      const principal = await admit(request);
      // Field and token counts before Apollo parses and validates: validation time grows
      // faster than the document, so an oversized one is refused on its text.
      try {
        // A GET carries its operation in the query string, a POST in the body.
        const sent = (request.method === 'GET' ? request.query : request.body) as unknown;
        for (const op of Array.isArray(sent) ? sent : [sent]) checkDocumentSize((op as { query?: unknown } | null)?.query);
      } catch (err) {
        if (err instanceof ChartgraphError) refused(request, principal, err);
        throw err;
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
        databaseNotes: databaseNotes.get(request),
        onCacheLookup: (lookup) => {
          metrics.cacheLookup(lookup);
          telemetry?.cacheLookup(lookup);
          explain?.recordCacheLookup(lookup);
        },
      });
      contexts.set(request, ctx);
      return ctx;
    },
  });
  // Anyone who can open the page can use its tokens: the admin one only for this machine.
  const loopback = isLoopbackHost(config.server.host);
  const pageRoles = ROLES.filter((role) => role !== 'admin' || loopback);
  const graphiql = graphiqlEnabled(config)
    ? await createGraphiql({
        logger,
        examples: opts.graphiqlExamples,
        devTokens:
          opts.graphiqlDevTokens && config.auth.mode === 'dev'
            ? () => Promise.all(pageRoles.map(async (role) => ({ role, token: await mintDevToken(config.auth, { role }, opts.devSecretFile) })))
            : undefined,
        notice: opts.graphiqlDevTokens && config.auth.mode === 'dev' && !loopback ? ADMIN_TOKEN_NOTICE : undefined,
      })
    : undefined;
  graphiql?.register(fastify);
  fastify.route<{ Reply: string }>({
    method: ['GET', 'POST', 'OPTIONS'],
    url: '/graphql',
    handler: async (request, reply) => {
      if (graphiql?.wantsPage(request)) return graphiql.sendPage(reply);
      // The explain scope only for requests that ask, and the database notes' scope only
      // during an outage: an AsyncLocalStorage scope costs every request it covers (async
      // hooks on each promise). Each request's upstream calls reach its explain collector
      // through it, and its misses of an unreachable database its notes.
      const header = request.headers[EXPLAIN_HEADER];
      const explain = wantsExplain(typeof header === 'string' ? header : undefined, requestExtensions(request.body, request.query));
      // During a database outage answers say so (CACHE_UNAVAILABLE): none is given from before it.
      const lookup = cacheRoute && !explain && !services.databaseHealth.down ? await cacheRoute.lookup(request) : undefined;
      if (lookup?.kept) return reply.type(lookup.kept.contentType).send(lookup.kept.body);
      const notes = services.databaseHealth.notesForRequest();
      databaseNotes.set(request, notes);
      const handle = () => graphql.call(fastify, request, reply);
      const run = () => services.databaseHealth.runRequest(notes, () => (explain ? runWithExplainCollector(new ExplainCollector(), handle) : handle()));
      const body = await (telemetry ? telemetry.runRequest(String(request.id), run) : run());
      if (lookup) cacheRoute!.keep(lookup, contexts.get(request), body, reply);
      return body;
    },
  });
  // Fastify's own refusals (malformed JSON, body over the limit, unknown content type) in
  // the GraphQL error shape, with a code, like every other refusal.
  fastify.setErrorHandler((error: { statusCode?: number; code?: string; message: string }, request, reply) => {
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) logger.error({ requestId: request.id, err: { type: error.code ?? 'Error' } }, 'unexpected error in an HTTP request');
    const message =
      status === 413 ? `Request body is larger than ${BODY_LIMIT_BYTES} bytes` : status === 415 ? 'Unsupported content type: send application/json' : status === 500 ? 'Internal server error' : 'Malformed request body';
    return reply.code(status).send({
      errors: [{ message, extensions: { code: status === 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_REQUEST', ...(status === 413 && { limit: 'bodyBytes', max: BODY_LIMIT_BYTES }) } }],
    });
  });

  // Care-coordination events: the feed, its pollers, and subscriptions over SSE and WebSocket.
  const events = await startEventFeed({ config, database: services.database, index: services.index, clients: services.clients, logger, registry: metrics.registry });
  services.events = events.feed;
  const closeEventStreams = registerEventStreams(fastify, {
    config,
    schema,
    services,
    events,
    authenticator,
    rateLimiter,
    audit: security ? services.auditWriter : undefined,
    logger,
    // Subscriptions pass the HTTP endpoint's checks (noSubscriptionOverHttpRule aside).
    checks: { schema, limits: config.limits, validationRules: armor.validationRules, introspection },
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
    eventFeed: events,
    async close({ graceMs = SHUTDOWN_GRACE_MS, onStep } = {}) {
      if (closed) return;
      closed = true;
      // Ends every subscription first, so open event streams do not hold the server up; a
      // failure there must not cut the requests still in flight.
      onStep?.('event feed');
      for (const stop of [() => events.close(), closeEventStreams]) {
        await stop().catch((err: unknown) => logger.error({ err: { type: (err as Error)?.name ?? 'Error' } }, 'event feed did not close cleanly'));
      }
      // A client that never reads its answer must not hold the shutdown past the grace.
      onStep?.('http server');
      const cut = setTimeout(() => fastify.server.closeAllConnections(), graceMs);
      try {
        await fastify.close();
      } finally {
        clearTimeout(cut);
      }
      onStep?.('apollo');
      await apollo.stop();
      onStep?.('rate limiter');
      await rateLimiter?.close();
      await services.close({ onStep });
      onStep?.('telemetry');
      await telemetry?.shutdown().catch(() => undefined);
    },
  };
}
