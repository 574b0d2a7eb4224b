import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import proxyAddr from '@fastify/proxy-addr';
import type { FastifyInstance } from 'fastify';
import { getOperationAST, GraphQLError, Kind, validate, type DocumentNode, type ExecutionArgs, type ExecutionResult, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
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
import type { Authenticator, TokenSession } from './auth.js';
import type { RunningEventFeed } from './event-feed.js';
import { PURPOSE_OF_USE_HEADER, purposeOfUse, rejectedRequestRecord } from './plugins/audit.js';
import { errorForLog, MASKED_MESSAGE } from './plugins/response-errors.js';
import { chargeAddress, chargeSubject, type RateLimiter } from './rate-limit.js';
import { isRefused, prepareStreamOperation, type PreparedOperation, type RefusedOperation, type StreamOperationChecks } from './stream-operation.js';
import { atTime, tokenExpiredResult, untilTokenExpiry } from './token-expiry.js';

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
  /** The checks the HTTP endpoint runs on a document (size, tokens, armor's rules, cost, strings). */
  checks: StreamOperationChecks;
  /** Queues audit events (the gateway's buffered writer); undefined without security (bench baseline). */
  audit?: { record(event: AuditRecord): void };
  logger: Logger;
}

interface StreamContext extends RequestContext {
  purposeOfUse: string | null;
  transport: 'sse' | 'ws';
}

type Transport = StreamContext['transport'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** WebSocket close code for a connection whose token expired (4401, as graphql-ws's own 4401 Unauthorized). */
export const WS_TOKEN_EXPIRED = 4401;
/** WebSocket close code for a connect over the per-address rate limit (4429, as HTTP's 429). */
export const WS_RATE_LIMITED = 4429;

/**
 * Serves subscriptions (and any other operation) over SSE at `/graphql/stream` and over
 * WebSocket (graphql-ws) at `/graphql`, plus the FHIR rest-hook endpoint. Every operation
 * passes the HTTP endpoint's checks and counts toward the caller's rate limit, every refusal
 * is audited as the HTTP endpoint audits it, every event sent is one audited read; each event
 * is executed with a fresh request context, so a long subscription holds no growing loader
 * caches. Returns a function that closes the sockets.
 */
export function registerEventStreams(fastify: FastifyInstance, opts: EventStreamOptions): () => Promise<void> {
  const { logger } = opts;
  const rateLimit = opts.config.limits.rateLimit;

  const contextFor = (principal: Principal, requestId: string, transport: Transport, purpose: string | null): StreamContext => ({
    ...createRequestContext(opts.services, { principal, requestId }),
    purposeOfUse: purpose,
    transport,
  });

  /** A token refused (as the HTTP endpoint records it). */
  const auditUnauthenticated = (requestId: string, purpose: string | null, ip: string | undefined, transport: Transport) => {
    opts.audit?.record(
      newAuditRecord({
        at: new Date(),
        requestId,
        subject: 'anonymous',
        role: 'none',
        purposeOfUse: purpose,
        action: 'authenticate',
        patientIds: [],
        fieldGroups: [],
        outcome: 'denied',
        detail: { errorCodes: ['UNAUTHENTICATED'], transport, ...(ip && { ip }) },
      }),
    );
  };

  /**
   * Counts one subscribe operation (per address unless the transport already did, then per
   * subject: the HTTP budget) and checks its document; the refusal comes back as errors, audited.
   */
  const admitOperation = async (
    principal: Principal,
    params: { query?: unknown; operationName?: unknown; variables?: unknown },
    at: { requestId: string; purpose: string | null; ip: string | undefined; transport: Transport; addressCharged?: boolean },
  ): Promise<PreparedOperation | RefusedOperation> => {
    if (!at.addressCharged) await chargeAddress(opts.rateLimiter, rateLimit, at.ip);
    await chargeSubject(opts.rateLimiter, rateLimit, principal.sub);
    const prepared = prepareStreamOperation(params, opts.checks);
    if (isRefused(prepared)) {
      opts.audit?.record(
        rejectedRequestRecord({ requestId: at.requestId, principal, purposeOfUse: at.purpose, operationName: prepared.operationName, errors: prepared.errors, detail: { transport: at.transport, ...(at.ip && { ip: at.ip }) } }),
      );
    }
    return prepared;
  };

  /** One audit event of a stream operation: a read by the operation's principal. */
  const recordRead = (ctx: StreamContext, event: { patientIds: string[]; fieldGroups: string[]; outcome: string; detail: Record<string, unknown> }) =>
    opts.audit?.record(
      newAuditRecord({ at: new Date(), requestId: ctx.requestId, subject: ctx.principal.sub, role: ctx.principal.role, purposeOfUse: ctx.purposeOfUse, action: 'read', ...event }),
    );

  /**
   * A subscription the resolvers or the permission rules refused at subscribe time (a role
   * without the feed, a type it may not see, bad arguments): audited like a refused read,
   * with the patient ids it asked for.
   */
  const auditRefusedSubscription = (ctx: StreamContext, args: ExecutionArgs, result: unknown) => {
    if (!opts.audit || isAsyncIterable(result)) return;
    const errors = (result as ExecutionResult).errors ?? [];
    if (errors.length === 0) return;
    const operation = getOperationAST(args.document, args.operationName);
    if (operation?.operation !== 'subscription') return;
    const codes = [...new Set(errors.map((e) => String(e.extensions?.code ?? 'UNKNOWN')))].sort();
    const denied = codes.includes('FORBIDDEN');
    recordRead(ctx, {
      patientIds: askedPatientIds(operation, args.variableValues ?? {}),
      fieldGroups: ['events'],
      outcome: denied ? 'denied' : 'error',
      detail: { operationName: args.operationName ?? 'patientEvents', transport: ctx.transport, errorCodes: codes, ...(denied && { deniedGroups: ['events'] }) },
    });
  };

  /** After each result: audit what it read, mask unexpected errors (the next event renews the context as it arrives: see subscribeEvents). */
  const afterResult = (ctx: StreamContext, result: ExecutionResult): ExecutionResult => {
    const trail = ctx.audit;
    const errors = result.errors?.map((e) => maskError(e, logger));
    if (opts.audit && trail.touchesPatients) {
      recordRead(ctx, {
        patientIds: [...trail.patients].sort(),
        fieldGroups: [...new Set([...trail.groupsAsked, ...trail.groupsRead, ...trail.groupsDenied])].sort(),
        outcome: trail.groupsDenied.size > 0 ? 'denied' : errors?.length ? 'partial' : 'success',
        detail: { operationName: 'patientEvents', transport: ctx.transport, ...(errors?.length && { errorCodes: [...new Set(errors.map((e) => String(e.extensions.code)))].sort() }) },
      });
    }
    return errors ? { ...result, errors } : result;
  };

  // Documents that passed prepareStreamOperation: the transports' own validation (without
  // armor's rules) has nothing left to find in them.
  const checked = new WeakSet<DocumentNode>();
  const validateChecked = (schema: GraphQLSchema, document: DocumentNode) => (checked.has(document) ? [] : validate(schema, document));
  /** What either transport executes for an admitted operation (its document marked as checked). */
  const executionArgs = <C>(prepared: PreparedOperation, contextValue: C) => {
    checked.add(prepared.document);
    return { schema: opts.schema, document: prepared.document, operationName: prepared.operationName, variableValues: prepared.variableValues, contextValue };
  };

  // SSE: the token found by `authenticate`, for `onSubscribe` and `context` of the same request.
  const sseSessions = new WeakMap<object, TokenSession>();
  const sseRequestId = (raw: unknown) => String((raw as { id?: unknown }).id ?? '');
  const sseIp = (raw: unknown) => (raw as { ip?: string }).ip;
  const ssePurpose = (headers: { get(name: string): string | null | undefined }) => purposeOfUse(headers.get(PURPOSE_OF_USE_HEADER));
  const sse = createHandler<StreamContext & Record<PropertyKey, unknown>>({
    schema: opts.schema,
    validate: validateChecked,
    // Distinct connections mode only: each subscription is its own authenticated request.
    authenticate: async (req) => {
      // Per address before the token is checked, as on HTTP (throws RATE_LIMITED: 429 below).
      await chargeAddress(opts.rateLimiter, rateLimit, sseIp(req.raw));
      try {
        sseSessions.set(req.raw as object, await opts.authenticator.session(req.headers.get('authorization') ?? undefined));
        return '';
      } catch {
        auditUnauthenticated(sseRequestId(req.raw), ssePurpose(req.headers), sseIp(req.raw), 'sse');
        return [JSON.stringify({ errors: [{ message: 'Authentication required: send a valid bearer token', extensions: { code: 'UNAUTHENTICATED' } }] }), { status: 401, statusText: 'Unauthorized', headers: { 'content-type': 'application/json; charset=utf-8' } }];
      }
    },
    onSubscribe: async (req, params) => {
      const { principal } = sseSessions.get(req.raw as object)!;
      // The address was counted in `authenticate`; it is still named in the audit.
      const at = { requestId: sseRequestId(req.raw), purpose: ssePurpose(req.headers), ip: sseIp(req.raw), transport: 'sse' as const, addressCharged: true };
      const prepared = await admitOperation(principal, params, at);
      // `data` present (undefined: not sent) is how graphql-sse tells a result from arguments.
      if (isRefused(prepared)) return { data: undefined, errors: prepared.errors };
      return executionArgs(prepared, contextFor(principal, at.requestId, 'sse', at.purpose) as StreamContext & Record<PropertyKey, unknown>);
    },
    // Only for a refusal from onSubscribe (its result still goes through onNext).
    context: (req) => contextFor(sseSessions.get(req.raw as object)!.principal, sseRequestId(req.raw), 'sse', ssePurpose(req.headers)) as StreamContext & Record<PropertyKey, unknown>,
    onOperation: (ctx, req, args, result) => {
      auditRefusedSubscription(ctx, args, result);
      // The stream ends when its token does: the client comes back with a fresh one.
      if (isAsyncIterable(result)) return untilTokenExpiry(result as AsyncIterable<ExecutionResult>, sseSessions.get(req.raw as object)!.expiresAt);
      return undefined;
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
          return reply.code(429).header('retry-after', String(err.retryAfterSec)).send({ errors: [{ message: err.message, extensions: { code: 'RATE_LIMITED', retryAfterSec: err.retryAfterSec } }] });
        }
        logger.error({ err: errorForLog(err) }, 'event stream failed');
        if (!reply.sent) return reply.code(500).send({ errors: [{ message: MASKED_MESSAGE, extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
      }
    },
  });

  // graphql-ws on the same path as queries: browsers and clients upgrade `/graphql`.
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  const keepAliveMs = opts.config.events.keepAliveSeconds * 1000;
  type WsExtra = { principal?: Principal; expiresAt?: number; connectionId?: string; purpose?: string | null; request?: IncomingMessage; socket?: WebSocket };
  // The client's address as Fastify's request.ip gives it on HTTP: behind the trusted proxies, the forwarded one.
  const trusted = opts.config.server.trustProxy ? proxyAddr.compile(opts.config.server.trustProxy) : undefined;
  const wsIp = (extra: WsExtra) => (extra.request ? (trusted ? proxyAddr(extra.request, trusted) : extra.request.socket.remoteAddress) : undefined);
  const wsServer = useServer<{ authorization?: string }, WsExtra>(
    {
      schema: opts.schema,
      validate: validateChecked,
      // The connection is authenticated once; each subscribe operation is counted and checked (onSubscribe).
      onConnect: async (ctx) => {
        const header = ctx.connectionParams?.authorization;
        const purpose = ctx.extra.request?.headers[PURPOSE_OF_USE_HEADER];
        ctx.extra.purpose = purposeOfUse(typeof purpose === 'string' ? purpose : null);
        // Names the connection in its operations' audit request ids (op ids repeat across connections).
        ctx.extra.connectionId = randomUUID();
        // Per address before the token is checked, as on HTTP and SSE: bad tokens cost a flood its budget too.
        try {
          await chargeAddress(opts.rateLimiter, rateLimit, wsIp(ctx.extra));
        } catch (err) {
          if (!(err instanceof RateLimitedError)) throw err;
          // Closed with our code first; graphql-ws's own close (4403) after `false` is then a no-op.
          ctx.extra.socket?.close(WS_RATE_LIMITED, 'Too many requests');
          return false;
        }
        let session: TokenSession;
        try {
          session = await opts.authenticator.session(typeof header === 'string' ? header : undefined);
        } catch {
          auditUnauthenticated(`ws-${ctx.extra.connectionId}`, ctx.extra.purpose, wsIp(ctx.extra), 'ws');
          return false; // 4403 Forbidden
        }
        ctx.extra.principal = session.principal;
        ctx.extra.expiresAt = session.expiresAt;
        // The connection was authenticated once: it ends when the token does, with every subscription on it.
        const socket = ctx.extra.socket;
        if (socket) {
          const cancel = atTime(session.expiresAt, () => socket.close(WS_TOKEN_EXPIRED, 'token expired'));
          socket.once('close', cancel);
        }
        return true;
      },
      onSubscribe: async (ctx, id, payload) => {
        const principal = ctx.extra.principal!;
        // Refused until the socket's close (queued by the expiry timer) goes out.
        if (Date.now() >= (ctx.extra.expiresAt ?? 0)) return tokenExpiredResult().errors as GraphQLError[];
        const at = { requestId: wsRequestId(ctx.extra.connectionId!, id), purpose: ctx.extra.purpose ?? null, ip: wsIp(ctx.extra), transport: 'ws' as const };
        let prepared: PreparedOperation | RefusedOperation;
        try {
          prepared = await admitOperation(principal, payload, at);
        } catch (err) {
          if (err instanceof RateLimitedError) return [new GraphQLError(err.message, { extensions: { code: 'RATE_LIMITED', retryAfterSec: err.retryAfterSec } })];
          throw err;
        }
        if (isRefused(prepared)) return prepared.errors;
        return executionArgs(prepared, contextFor(principal, at.requestId, 'ws', at.purpose));
      },
      onOperation: (_ctx, _id, _payload, args, result) => {
        auditRefusedSubscription(args.contextValue as StreamContext, args, result);
      },
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
  // The address is charged and the secret checked before the body is read (it is ignored):
  // a flood of forged notifications costs a rate-limit lookup each, not a body.
  const outcome = (code: string, diagnostics: string) => ({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, diagnostics }] });
  void fastify.register(async (scope) => {
    scope.addContentTypeParser(['application/fhir+json', 'application/json'], { parseAs: 'string', bodyLimit: 64 * 1024 }, (_req, _body, done) => done(null, null));
    scope.post<{ Params: { sourceId: string } }>(`${NOTIFICATION_PATH}/:sourceId`, {
      onRequest: async (request, reply) => {
        try {
          await chargeAddress(opts.rateLimiter, rateLimit, request.ip);
        } catch (err) {
          if (!(err instanceof RateLimitedError)) throw err;
          return reply.code(429).header('retry-after', String(err.retryAfterSec)).send(outcome('throttled', 'Too many notifications from this address'));
        }
        const { sourceId } = request.params;
        if (!opts.events.pollers.has(sourceId) || !(await opts.events.subscriptions.verify(sourceId, request.headers.authorization))) {
          return reply.code(401).send(outcome('security', 'Unknown subscription or secret'));
        }
      },
      handler: async (request, reply) => {
        await opts.events.wake(request.params.sourceId);
        return reply.code(200).send();
      },
    });
  });

  return async () => {
    fastify.server.off('upgrade', onUpgrade);
    await wsServer.dispose();
    for (const client of wss.clients) client.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  };
}

/**
 * The audit request id of operation `opId` on one WebSocket: unique across connections and
 * the same for every row of the operation, within the gateway's request id pattern
 * (`[A-Za-z0-9._-]{8,128}`). An op id outside it is stood for by a digest.
 */
export function wsRequestId(connectionId: string, opId: string): string {
  const op = /^[A-Za-z0-9._-]{1,64}$/.test(opId) ? opId : createHash('sha256').update(opId).digest('hex').slice(0, 24);
  return `ws-${connectionId}-${op}`;
}

/** Our typed errors go out as they are; anything else is logged and masked (as formatError does for HTTP). */
function maskError(e: GraphQLError, logger: Logger): GraphQLError {
  if (e.originalError instanceof ChartgraphError) return e;
  if (!e.originalError && e.extensions?.code) return e;
  if (!e.originalError && !e.path) return e; // validation errors
  logger.error({ err: errorForLog(e.originalError ?? e), path: e.path }, 'unexpected error in a subscription');
  return new GraphQLError(MASKED_MESSAGE, { path: e.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } });
}

/** The unified ids a refused subscription asked for (`patientIds`, literal or variable); only well-formed ids, for the audit row. */
function askedPatientIds(operation: OperationDefinitionNode, variables: Record<string, unknown>): string[] {
  const out = new Set<string>();
  for (const sel of operation.selectionSet.selections) {
    if (sel.kind !== Kind.FIELD) continue;
    const arg = sel.arguments?.find((a) => a.name.value === 'patientIds');
    if (!arg) continue;
    const value: unknown =
      arg.value.kind === Kind.VARIABLE
        ? variables[arg.value.name.value]
        : arg.value.kind === Kind.LIST
          ? arg.value.values.map((v) => (v.kind === Kind.STRING ? v.value : v.kind === Kind.VARIABLE ? variables[v.name.value] : undefined))
          : undefined;
    for (const id of Array.isArray(value) ? value : [value]) if (typeof id === 'string' && UUID.test(id)) out.add(id.toLowerCase());
  }
  return [...out].sort();
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}
