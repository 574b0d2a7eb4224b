import { createHash } from 'node:crypto';
import type { ApolloServerPlugin } from '@apollo/server';
import { Kind, TypeInfo, visit, visitWithTypeInfo, type DocumentNode, type GraphQLSchema } from 'graphql';
import { LRUCache } from 'lru-cache';
import type { AuditRecord } from '../datasources/cache/audit-store.js';
import { newAuditRecord } from '../datasources/cache/audit-store.js';
import type { Principal } from '../permissions/roles.js';
import type { RequestContext } from '../resolvers/context.js';

/**
 * Whole answers to repeated queries (a dashboard refreshing, a chart opened again), per user.
 *
 * Only answers built entirely from fresh cached copies are kept: no upstream call, no copy
 * past its TTL, no error. An answer is kept until the first copy it was built from expires,
 * never longer than `maxAgeMs`, and never past the in-memory links it was built from (so
 * identity changes made by another replica show as soon as they would without it). A link
 * change on this replica, or a mutation that ran, empties it. The key holds the user, role, scopes and purpose of use with the
 * operation and its variables, so an answer is only ever given again to the one who got it.
 * Each answer given from here writes its own audit event, as the first one did.
 */
export class ResponseCache {
  private readonly entries: LRUCache<string, CachedAnswer>;
  private readonly cacheable = new WeakMap<DocumentNode, boolean>();
  /** Bytes kept per subject: one user's many variants must not push out everyone else's answers. */
  private readonly bySubject = new Map<string, number>();
  private readonly maxBytesPerSubject: number;
  private emptied = 0;

  constructor(
    private readonly schema: GraphQLSchema,
    readonly maxAgeMs: number,
    maxBytes: number,
  ) {
    // An answer larger than a sixteenth of the whole would push out many smaller ones.
    this.entries = new LRUCache({
      maxSize: maxBytes,
      maxEntrySize: Math.floor(maxBytes / 16),
      sizeCalculation: sizeOf,
      dispose: (answer) => {
        const left = (this.bySubject.get(answer.subject) ?? 0) - sizeOf(answer);
        if (left > 0) this.bySubject.set(answer.subject, left);
        else this.bySubject.delete(answer.subject);
      },
    });
    this.maxBytesPerSubject = Math.floor(maxBytes / 8);
  }

  /**
   * Changes each time the cache is emptied. A request takes it before it runs and passes it
   * to {@link set}: an answer read before a change, but finished after the emptying, is not kept.
   */
  get generation(): number {
    return this.emptied;
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

  get(key: string, now = Date.now()): CachedAnswer | undefined {
    const answer = this.entries.get(key);
    if (answer && answer.expiresAt <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return answer;
  }

  /** Keeps an answer, unless the cache was emptied since `generation` or its subject has its share; says whether it did. */
  set(key: string, answer: CachedAnswer, generation: number): boolean {
    if (generation !== this.emptied || this.entries.has(key)) return false;
    const used = (this.bySubject.get(answer.subject) ?? 0) + sizeOf(answer);
    if (used > this.maxBytesPerSubject) return false;
    this.entries.set(key, answer);
    if (!this.entries.has(key)) return false;
    this.bySubject.set(answer.subject, used);
    return true;
  }

  clear(): void {
    this.emptied++;
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
  body: string;
  contentType: string;
  expiresAt: number;
  audit?: AuditRecord;
}

const sizeOf = (answer: CachedAnswer): number => answer.body.length * 2 + 512;

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
export function auditOfRepeat(first: AuditRecord, requestId: string): AuditRecord {
  const { id: _id, ...fields } = first;
  return newAuditRecord({ ...fields, at: new Date(), requestId, detail: { ...first.detail, responseCache: 'hit' } });
}

/**
 * Apollo plugin: empties the cache after a mutation that ran, and says on the context until
 * when this request's answer may be kept (`ctx.repeat.until`), read by the HTTP route once
 * the body is made. Must come after the audit plugin, whose event it keeps.
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
