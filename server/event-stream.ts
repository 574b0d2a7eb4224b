import type { FastifyInstance } from 'fastify';
import { GraphQLError, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { createHandler } from 'graphql-sse/lib/use/fastify';
import { useServer } from 'graphql-ws/use/ws';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ChartgraphConfig } from '../config/config.schema.js';
import { newAuditRecord } from '../datasources/cache/audit-store.js';
import type { AuditRecord } from '../datasources/cache/audit-store.js';
import { NOTIFICATION_PATH } from '../datasources/events/fhir-subscriptions.js';
import { ChartgraphError, RateLimitedError } from '../errors/errors.js';
import { createRequestContext, type GatewayServices, type RequestContext } from '../resolvers/context.js';
import type { Principal } from '../permissions/roles.js';
import type { Authenticator } from './auth.js';
import type { RunningEventFeed } from './event-feed.js';
import { PURPOSE_OF_USE_HEADER, purposeOfUse } from './plugins/audit.js';
import { errorForLog, MASKED_MESSAGE } from './plugins/response-errors.js';
import type { RateLimiter } from './rate-limit.js';

/** Path of GraphQL over Server-Sent Events (graphql-sse, distinct connections mode). */
export const SSE_PATH = '/graphql/stream';

/** What {@link registerEventStreams} needs from the gateway. */
export interface EventStreamOptions {
  config: ChartgraphConfig;
  schema: GraphQLSchema;
  services: GatewayServices;
  events: RunningEventFeed;
  authenticator: Authenticator;
  rateLimiter: RateLimiter | null;
  /** Queues audit events (the gateway's buffered writer); undefined without security (bench baseline). */
  audit?: { record(event: AuditRecord): void };
  logger: Logger;
}

interface StreamContext extends RequestContext {
  purposeOfUse: string | null;
  transport: 'sse' | 'ws';
}

/**
 * Serves subscriptions (and any other operation) over SSE at `/graphql/stream` and over
 * WebSocket (graphql-ws) at `/graphql`, plus the FHIR rest-hook endpoint. Every event sent is
 * one audited read; each event is executed with a fresh request context, so a long
 * subscription holds no growing loader caches. Returns a function that closes the sockets.
 */
export function registerEventStreams(fastify: FastifyInstance, opts: EventStreamOptions): () => Promise<void> {
  const { logger } = opts;

  /** The principal of a bearer header; subscriptions count toward the caller's rate limit. */
  const admit = async (authorization: string | undefined): Promise<Principal> => {
    const principal = await opts.authenticator.verify(authorization);
    if (opts.rateLimiter) {
      const decision = await opts.rateLimiter.consume(`sub:${principal.sub}`);
      if (!decision.allowed) throw new RateLimitedError(decision.retryAfterSec);
    }
    return principal;
  };
  const contextFor = (principal: Principal, requestId: string, transport: 'sse' | 'ws', purpose: string | null): StreamContext => ({
    ...createRequestContext(opts.services, { principal, requestId }),
    purposeOfUse: purpose,
    transport,
  });

  /** After each result: audit what it read, mask unexpected errors, start a fresh context for the next event. */
  const afterResult = (ctx: StreamContext, result: ExecutionResult): ExecutionResult => {
    const trail = ctx.audit;
    const errors = result.errors?.map((e) => maskError(e, logger));
    if (opts.audit && trail.touchesPatients) {
      opts.audit.record(
        newAuditRecord({
          at: new Date(),
          requestId: ctx.requestId,
          subject: ctx.principal.sub,
          role: ctx.principal.role,
          purposeOfUse: ctx.purposeOfUse,
          action: 'read',
          patientIds: [...trail.patients].sort(),
          fieldGroups: [...new Set([...trail.groupsAsked, ...trail.groupsRead, ...trail.groupsDenied])].sort(),
          outcome: trail.groupsDenied.size > 0 ? 'denied' : errors?.length ? 'partial' : 'success',
          detail: { operationName: 'patientEvents', transport: ctx.transport, ...(errors?.length && { errorCodes: [...new Set(errors.map((e) => String(e.extensions.code)))].sort() }) },
        }),
      );
    }
    const fresh = createRequestContext(opts.services, { principal: ctx.principal, requestId: ctx.requestId });
    Object.assign(ctx, { loaders: fresh.loaders, patients: fresh.patients, partialErrors: fresh.partialErrors, audit: fresh.audit, eligibility: fresh.eligibility });
    return errors ? { ...result, errors } : result;
  };

  const sse = createHandler<StreamContext & Record<PropertyKey, unknown>>({
    schema: opts.schema,
    // Distinct connections mode only: each subscription is its own authenticated request.
    authenticate: async (req) => {
      try {
        await opts.authenticator.verify(req.headers.get('authorization') ?? undefined);
        return '';
      } catch {
        return [JSON.stringify({ errors: [{ message: 'Authentication required: send a valid bearer token', extensions: { code: 'UNAUTHENTICATED' } }] }), { status: 401, statusText: 'Unauthorized', headers: { 'content-type': 'application/json; charset=utf-8' } }];
      }
    },
    context: async (req) => {
      const principal = await admit(req.headers.get('authorization') ?? undefined);
      const raw = req.raw as { id?: unknown };
      return contextFor(principal, String(raw.id ?? ''), 'sse', purposeOfUse(req.headers.get(PURPOSE_OF_USE_HEADER))) as StreamContext & Record<PropertyKey, unknown>;
    },
    onNext: (ctx, _req, result) => afterResult(ctx, result as ExecutionResult),
  });
  fastify.route({
    method: ['GET', 'POST', 'PUT', 'DELETE'],
    url: SSE_PATH,
    handler: async (request, reply) => {
      try {
        await sse(request, reply);
      } catch (err) {
        if (err instanceof RateLimitedError) {
          return reply.code(429).header('retry-after', String(err.retryAfterSec)).send({ errors: [{ message: err.message, extensions: { code: 'RATE_LIMITED' } }] });
        }
        logger.error({ err: errorForLog(err) }, 'event stream failed');
        if (!reply.sent) return reply.code(500).send({ errors: [{ message: MASKED_MESSAGE, extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
      }
    },
  });

  // graphql-ws on the same path as queries: browsers and clients upgrade `/graphql`.
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  const keepAliveMs = opts.config.events.keepAliveSeconds * 1000;
  const wsServer = useServer<{ authorization?: string }, { principal?: Principal; purpose?: string | null; requestId?: string }>(
    {
      schema: opts.schema,
      onConnect: async (ctx) => {
        const header = ctx.connectionParams?.authorization;
        try {
          ctx.extra.principal = await admit(typeof header === 'string' ? header : undefined);
        } catch (err) {
          if (err instanceof RateLimitedError) throw new Error('Too many requests');
          return false; // 4403 Forbidden
        }
        const raw = ctx.extra as unknown as { request?: { headers: Record<string, string | string[] | undefined> } };
        const purpose = raw.request?.headers[PURPOSE_OF_USE_HEADER];
        ctx.extra.purpose = purposeOfUse(typeof purpose === 'string' ? purpose : null);
        return true;
      },
      context: (ctx, id) => contextFor(ctx.extra.principal!, `ws-${id}`, 'ws', ctx.extra.purpose ?? null),
      onNext: (_ctx, _id, _payload, args, result) => afterResult(args.contextValue as StreamContext, result) as never,
    },
    wss,
    keepAliveMs,
  );
  const onUpgrade = (req: import('node:http').IncomingMessage, socket: import('node:stream').Duplex, head: Buffer) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/graphql') {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => wss.emit('connection', ws, req));
  };
  fastify.server.on('upgrade', onUpgrade);

  // FHIR rest-hook notifications (R4 Backport): id-only wake-up calls for the source's poller.
  void fastify.register(async (scope) => {
    scope.addContentTypeParser(['application/fhir+json', 'application/json'], { parseAs: 'string', bodyLimit: 1024 * 1024 }, (_req, _body, done) => done(null, null));
    scope.post<{ Params: { sourceId: string } }>(`${NOTIFICATION_PATH}/:sourceId`, async (request, reply) => {
      const { sourceId } = request.params;
      if (!opts.events.pollers.has(sourceId) || !(await opts.events.subscriptions.verify(sourceId, request.headers.authorization))) {
        return reply.code(401).send({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'security', diagnostics: 'Unknown subscription or secret' }] });
      }
      await opts.events.wake(sourceId);
      return reply.code(200).send();
    });
  });

  return async () => {
    fastify.server.off('upgrade', onUpgrade);
    await wsServer.dispose();
    for (const client of wss.clients) client.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  };
}

/** Our typed errors go out as they are; anything else is logged and masked (as formatError does for HTTP). */
function maskError(e: GraphQLError, logger: Logger): GraphQLError {
  if (e.originalError instanceof ChartgraphError) return e;
  if (!e.originalError && e.extensions?.code) return e;
  if (!e.originalError && !e.path) return e; // validation errors
  logger.error({ err: errorForLog(e.originalError ?? e), path: e.path }, 'unexpected error in a subscription');
  return new GraphQLError(MASKED_MESSAGE, { path: e.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } });
}
