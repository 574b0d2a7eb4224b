import { createHash } from 'node:crypto';
import type { ApolloServerPlugin } from '@apollo/server';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Kind, TypeInfo, visit, visitWithTypeInfo, type DocumentNode, type GraphQLSchema } from 'graphql';
import { LRUCache } from 'lru-cache';
import { newAuditRecord, type AuditRecord } from '../datasources/cache/audit-store.js';
import type { Principal } from '../permissions/roles.js';
import type { RequestContext } from '../resolvers/context.js';
import { PURPOSE_OF_USE_HEADER } from './plugins/audit.js';

/**
 * Whole answers to repeated queries (a dashboard refreshing, a chart opened again), per user.
 *
 * Only answers built entirely from fresh cached copies are kept: no upstream call, no copy
 * past its TTL, no error. An answer is kept until the first copy it was built from expires,
 * never longer than `maxAgeMs`, and never past the in-memory links it was built from. A link
 * change on this replica drops the answers about those patients; a mutation that ran empties
 * it. The key holds the user, role, scopes, purpose of use and Accept header with the
 * operation and its variables, so an answer is only ever given again to the one who got it.
 * Each answer given from here writes its own audit event, as the first one did.
 */
export class ResponseCache {
  private readonly entries: LRUCache<string, CachedAnswer>;
  private readonly cacheable = new WeakMap<DocumentNode, boolean>();
  /** Bytes kept per subject: one user's many variants must not push out everyone else's answers. */
  private readonly bySubject = new Map<string, number>();
  /** Keys of the answers about each patient, so a link change drops only those. */
  private readonly byPatient = new Map<string, Set<string>>();
  private readonly maxBytesPerSubject: number;
  private changes = 0;

  constructor(
    private readonly schema: GraphQLSchema,
    readonly maxAgeMs: number,
    maxBytes: number,
  ) {
    this.entries = new LRUCache({
      maxSize: maxBytes,
      // An answer larger than a sixteenth of the whole would push out many smaller ones.
      maxEntrySize: Math.floor(maxBytes / 16),
      sizeCalculation: (answer) => answer.size,
      // Called however an answer goes (expired, pushed out, dropped, emptied): its share and index entries go with it.
      dispose: (answer, key) => {
        const left = (this.bySubject.get(answer.subject) ?? 0) - answer.size;
        if (left > 0) this.bySubject.set(answer.subject, left);
        else this.bySubject.delete(answer.subject);
        for (const id of answer.patientIds) {
          const keys = this.byPatient.get(id);
          keys?.delete(key);
          if (keys?.size === 0) this.byPatient.delete(id);
        }
      },
    });
    this.maxBytesPerSubject = Math.floor(maxBytes / 8);
  }

  /**
   * Changes each time answers are dropped for a change. A request takes it before it runs and
   * passes it to {@link set}: an answer read before a change but finished after it is not kept.
   */
  get generation(): number {
    return this.changes;
  }

  /** The key of a request: who asks, why, how they accept answers, and what exactly. */
  keyFor(principal: Principal, request: { purposeOfUse?: string; accept?: string; query: string; operationName?: unknown; variables?: unknown }): string {
    return createHash('sha256')
      .update(
        JSON.stringify([
          principal.sub,
          principal.role,
          [...principal.scopes].sort(),
          request.purposeOfUse ?? null,
          request.accept ?? null,
          request.query,
          request.operationName ?? null,
          request.variables ?? null,
        ]),
      )
      .digest('base64url');
  }

  get(key: string): CachedAnswer | undefined {
    return this.entries.get(key);
  }

  /**
   * Keeps an answer until `answer.expiresAt`, unless answers were dropped since `generation`
   * or its subject has used its share; says whether it did.
   */
  set(key: string, answer: Omit<CachedAnswer, 'size'>, generation: number, now = Date.now()): boolean {
    if (generation !== this.changes || this.entries.has(key) || answer.expiresAt <= now) return false;
    const kept: CachedAnswer = { ...answer, size: answer.body.length * 2 + (answer.audit ? JSON.stringify(answer.audit).length * 2 : 0) + 512 };
    if ((this.bySubject.get(kept.subject) ?? 0) + kept.size > this.maxBytesPerSubject) {
      // Expired answers still count until something drops them.
      this.entries.purgeStale();
      if ((this.bySubject.get(kept.subject) ?? 0) + kept.size > this.maxBytesPerSubject) return false;
    }
    this.entries.set(key, kept, { ttl: answer.expiresAt - now });
    if (!this.entries.has(key)) return false;
    this.bySubject.set(kept.subject, (this.bySubject.get(kept.subject) ?? 0) + kept.size);
    for (const id of kept.patientIds) {
      let keys = this.byPatient.get(id);
      if (!keys) this.byPatient.set(id, (keys = new Set()));
      keys.add(key);
    }
    return true;
  }

  /** Drops the answers about these patients (their links changed on this replica). */
  forgetPatients(unifiedIds: readonly string[]): void {
    this.changes++;
    for (const id of unifiedIds) for (const key of [...(this.byPatient.get(id) ?? [])]) this.entries.delete(key);
  }

  clear(): void {
    this.changes++;
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * Whether answers to this document may be kept: a query whose root fields are patients
   * read by id, and that asks nothing from a payer (eligibility has its own cache and TTL).
   */
  mayKeep(document: DocumentNode): boolean {
    let verdict = this.cacheable.get(document);
    if (verdict === undefined) {
      verdict = keepable(this.schema, document);
      this.cacheable.set(document, verdict);
    }
    return verdict;
  }
}

/** A kept answer: the body as sent, and the audit event its first answer wrote. */
export interface CachedAnswer {
  /** Whose answer it is (its share of the cache is counted). */
  subject: string;
  /** The unified patients it is about: a change of their links drops it. */
  patientIds: readonly string[];
  body: string;
  contentType: string;
  expiresAt: number;
  audit?: AuditRecord;
  /** Bytes counted for it (body, audit event and bookkeeping). */
  size: number;
}

const ROOT_FIELDS = new Set(['patient', 'patients', '__typename']);
const PAYER_FIELDS = new Set(['coverage', 'eligibility']);

function keepable(schema: GraphQLSchema, document: DocumentNode): boolean {
  if (document.definitions.some((d) => d.kind === Kind.OPERATION_DEFINITION && d.operation !== 'query')) return false;
  const queryType = schema.getQueryType();
  const typeInfo = new TypeInfo(schema);
  let ok = true;
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field(node) {
        const parent = typeInfo.getParentType();
        if (!parent) ok = false;
        else if (parent === queryType && !ROOT_FIELDS.has(node.name.value)) ok = false;
        else if (parent.name === 'Patient' && PAYER_FIELDS.has(node.name.value)) ok = false;
      },
      Directive(node) {
        // Incremental delivery is not one body to keep.
        if (node.name.value === 'defer' || node.name.value === 'stream') ok = false;
      },
    }),
  );
  return ok;
}

/** The same audit event for a later request answered from the cache. */
function auditOfRepeat(first: AuditRecord, requestId: string): AuditRecord {
  const { id: _id, ...fields } = first;
  return newAuditRecord({ ...fields, at: new Date(), requestId, detail: { ...first.detail, responseCache: 'hit' } });
}

/** A request's look into the response cache: its key, the generation it started in, and the kept answer if any. */
export interface ResponseCacheLookup {
  key: string;
  generation: number;
  kept?: CachedAnswer;
}

/**
 * The response cache at the HTTP route: `lookup` before Apollo runs (a hit is audited and
 * counted there), `keep` once Apollo's body is made.
 */
export function responseCacheRoute(
  cache: ResponseCache,
  deps: {
    /** Rate limits and the token; a refusal is Apollo's to answer, so it only means no cache. */
    admit: (request: FastifyRequest) => Promise<Principal>;
    audit?: (record: AuditRecord) => void;
    counted: (outcome: 'hit' | 'stored') => void;
  },
) {
  return {
    async lookup(request: FastifyRequest): Promise<ResponseCacheLookup | undefined> {
      const body = request.body as { query?: unknown; operationName?: unknown; variables?: unknown; extensions?: { persistedQuery?: unknown } } | null;
      if (request.method !== 'POST' || !body || typeof body !== 'object' || Array.isArray(body) || typeof body.query !== 'string') return undefined;
      // A persisted query's hash is Apollo's to check against the text, every time.
      if (body.extensions?.persistedQuery !== undefined) return undefined;
      const principal = await deps.admit(request).catch(() => undefined);
      if (!principal) return undefined;
      const purpose = request.headers[PURPOSE_OF_USE_HEADER];
      let key: string;
      try {
        key = cache.keyFor(principal, {
          purposeOfUse: typeof purpose === 'string' ? purpose : undefined,
          accept: request.headers.accept,
          query: body.query,
          operationName: body.operationName,
          variables: body.variables,
        });
      } catch {
        // Variables nested deeper than JSON.stringify goes: executed, never kept.
        return undefined;
      }
      const kept = cache.get(key);
      if (kept) {
        if (kept.audit) deps.audit?.(auditOfRepeat(kept.audit, String(request.id)));
        deps.counted('hit');
      }
      return { key, generation: cache.generation, kept };
    },

    keep(lookup: ResponseCacheLookup, ctx: RequestContext | undefined, body: unknown, reply: FastifyReply): void {
      const until = ctx?.repeat.until;
      if (!ctx || !until || typeof body !== 'string' || reply.statusCode !== 200) return;
      const answer = {
        subject: ctx.principal.sub,
        patientIds: [...ctx.audit.patients],
        body,
        contentType: String(reply.getHeader('content-type') ?? 'application/json'),
        expiresAt: until,
        audit: ctx.repeat.audit,
      };
      if (cache.set(lookup.key, answer, lookup.generation)) deps.counted('stored');
    },
  };
}

/**
 * Apollo plugin: empties the cache after a mutation that ran, and says on the context until
 * when this request's answer may be kept (`ctx.repeat.until`), read by the HTTP route once
 * the body is made. Comes after the plugins that add errors to the answer.
 */
export function responseCachePlugin(
  cache: ResponseCache,
  deps: {
    databaseDown: () => boolean;
    /** Until when this replica's in-memory links, merges and pending checks of these patients may be used. */
    keptUntil: (unifiedIds: Iterable<string>) => number;
  },
): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ contextValue: ctx, response, document, operation }) {
          if (response.body.kind !== 'single') return;
          const result = response.body.singleResult;
          if (operation?.operation === 'mutation') {
            // One refused before it ran changed nothing (and must not let anyone empty the cache at will).
            if (result.data && Object.values(result.data).some((v) => v !== null)) cache.clear();
            return;
          }
          if (!document || !ctx?.freshness) return;
          if (result.errors?.length || ctx.partialErrors.list.length > 0 || ctx.budget.upstreamAttempts > 0 || deps.databaseDown()) return;
          if (!cache.mayKeep(document)) return;
          const now = Date.now();
          const until = Math.min(ctx.freshness.freshUntil, now + cache.maxAgeMs, deps.keptUntil(ctx.audit.patients));
          if (until > now) ctx.repeat.until = until;
        },
      };
    },
  };
}
