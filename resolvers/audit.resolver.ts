import { Args, ArgsType, Ctx, Field, ID, Query, Resolver } from 'type-graphql';
import type { AuditCursor, AuditRecord } from '../datasources/cache/audit-store.js';
import { BadUserInputError } from '../errors/errors.js';
import { AuditEvent, AuditEventConnection } from '../schema/audit.types.js';
import type { ConnectionShape } from '../schema/connection.types.js';
import { DateTimeScalar } from '../schema/scalars.js';
import type { RequestContext } from './context.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, PageArgs } from './pagination.js';

@ArgsType()
class AuditEventsArgs extends PageArgs {
  @Field(() => String, { nullable: true, description: 'Only events of this token subject.' })
  subject?: string | null;

  @Field(() => ID, { nullable: true, description: 'Only events that touched this unified patient.' })
  patientId?: string | null;

  @Field(() => String, { nullable: true, description: 'Only events with this outcome: success, partial, denied or error.' })
  outcome?: string | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'Only events at or after this time.' })
  from?: string | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'Only events before this time.' })
  to?: string | null;
}

const CURSOR_PREFIX = 'audit:';

function encodeCursor(r: AuditCursor): string {
  return Buffer.from(`${CURSOR_PREFIX}${r.at.toISOString()}|${r.id}`).toString('base64url');
}

function decodeCursor(cursor: string): AuditCursor {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const m = /^audit:([^|]+)\|([0-9a-f-]{36})$/.exec(text);
  const at = m ? new Date(m[1]!) : null;
  if (!m || !at || Number.isNaN(at.getTime())) throw new BadUserInputError('`after` is not a cursor this API gave out', { argument: 'after' });
  return { at, id: m[2]! };
}

function toDate(value: string | null | undefined, argument: string): Date | null {
  if (!value) return null;
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new BadUserInputError(`\`${argument}\` is not a time`, { argument });
  return d;
}

function toEvent(r: AuditRecord): AuditEvent {
  const detail = r.detail ?? {};
  return {
    id: r.id,
    at: r.at.toISOString(),
    requestId: r.requestId,
    subject: r.subject,
    role: r.role,
    purposeOfUse: r.purposeOfUse,
    action: r.action,
    patientIds: r.patientIds,
    fieldGroups: r.fieldGroups,
    deniedGroups: Array.isArray(detail.deniedGroups) ? detail.deniedGroups.map(String) : [],
    outcome: r.outcome,
    operationName: typeof detail.operationName === 'string' ? detail.operationName : null,
  };
}

@Resolver()
export class AuditResolver {
  @Query(() => AuditEventConnection, { description: 'Recorded accesses to patient data, newest first, with filters. Admins only.' })
  async auditEvents(@Args(() => AuditEventsArgs) args: AuditEventsArgs, @Ctx() ctx: RequestContext): Promise<ConnectionShape<AuditEvent>> {
    const store = ctx.services.auditStore;
    if (!store) throw new Error('audit store not configured');
    const limit = args.first ?? DEFAULT_PAGE_SIZE;
    if (limit < 0 || limit > MAX_PAGE_SIZE) throw new BadUserInputError(`\`first\` must be between 0 and ${MAX_PAGE_SIZE}`, { argument: 'first' });
    const after = args.after ? decodeCursor(args.after) : null;
    // One extra row tells whether another page follows.
    const { items, totalCount } = await store.list(
      { subject: args.subject, patientId: args.patientId, outcome: args.outcome, from: toDate(args.from, 'from'), to: toDate(args.to, 'to') },
      { limit: limit + 1, after },
    );
    const page = items.slice(0, limit);
    const edges = page.map((r) => ({ cursor: encodeCursor(r), node: toEvent(r) }));
    return {
      totalCount,
      nodes: edges.map((e) => e.node),
      edges,
      pageInfo: {
        hasNextPage: items.length > limit,
        hasPreviousPage: after !== null,
        startCursor: edges[0]?.cursor ?? null,
        endCursor: edges.at(-1)?.cursor ?? null,
      },
    };
  }
}
