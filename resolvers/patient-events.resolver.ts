import type * as fhir from '@medplum/fhirtypes';
import type { GraphQLResolveInfo } from 'graphql';
import { Args, ArgsType, Ctx, Field, FieldResolver, ID, Info, Int, Query, Resolver, Root, Subscription } from 'type-graphql';
import type { EventFeed } from '../datasources/events/event-feed.js';
import type { StoredEvent } from '../datasources/events/event-store.js';
import { SlowSubscriberError } from '../datasources/events/event-tail.js';
import { BadUserInputError, ChartgraphError, ForbiddenError } from '../errors/errors.js';
import { isEventId } from '../events/event-key.js';
import type { PatientEventType as DomainEventType } from '../events/event-types.js';
import { visibleEventTypes } from '../permissions/events.js';
import type { ConnectionShape } from '../schema/connection.types.js';
import { PatientEvent, PatientEventConnection, PatientEventItem, PatientEventType } from '../schema/event.types.js';
import { Patient } from '../schema/patient.type.js';
import { DateTimeScalar } from '../schema/scalars.js';
import type { Provenance } from '../schema/common.types.js';
import { KINDS } from './clinical-kinds.js';
import { renewRequestContext, type RequestContext } from './context.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './pagination.js';
import { pathOf } from './partial-errors.js';
import { lazyPatientView, type PatientView } from './patient-view.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The chart's field group an event type reads (for the audit trail). */
const GROUP_OF: Record<DomainEventType, string> = {
  ADMITTED: 'encounters',
  DISCHARGED: 'encounters',
  EMERGENCY_VISIT: 'encounters',
  ENCOUNTER_UPDATED: 'encounters',
  NEW_CONDITION: 'conditions',
  NEW_LAB_RESULT: 'observations',
  NEW_MEDICATION: 'medicationRequests',
};

@ArgsType()
class EventFilterArgs {
  @Field(() => [ID], { nullable: true, description: 'Unified patient ids to watch; omitted: every patient.' })
  patientIds?: string[] | null;

  @Field(() => [PatientEventType], { nullable: true, description: 'Event types wanted; omitted: every type the caller’s role may see.' })
  types?: PatientEventType[] | null;
}

@ArgsType()
class PatientEventsArgs extends EventFilterArgs {
  @Field(() => DateTimeScalar, { nullable: true, description: 'Only events that happened at or after this time.' })
  since?: string | null;

  @Field(() => Int, { nullable: true, description: `How many events to return (default ${DEFAULT_PAGE_SIZE}, at most ${MAX_PAGE_SIZE}).` })
  first?: number | null;

  @Field(() => String, { nullable: true, description: 'Return the events after this one: an event id or a previous page’s `pageInfo.endCursor` (the same thing).' })
  after?: string | null;
}

@ArgsType()
class PatientEventsSubscriptionArgs extends EventFilterArgs {
  @Field(() => String, { nullable: true, description: 'Resume after this event id (the last one received): every event since is sent first, then live ones.' })
  after?: string | null;
}

/** What a PatientEvent resolver hands on: the stored event plus what its fields need. */
type EventView = PatientEvent & { stored: StoredEvent };

function feedOf(ctx: RequestContext): EventFeed {
  const feed = ctx.services.events;
  if (!feed) throw new ChartgraphError('The event feed is not running on this gateway', 'INTERNAL_SERVER_ERROR');
  return feed;
}

/**
 * Validated filter: types narrowed to what the caller may see, patient ids checked and
 * widened across identity merges: an id merged into another stands for its survivor, and a
 * survivor for every id merged into it (events detected before a merge keep the id they
 * were stored under), so a watcher follows the person whichever id it holds.
 */
async function filterOf(ctx: RequestContext, args: EventFilterArgs): Promise<{ types: Set<DomainEventType>; unifiedIds?: Set<string> }> {
  const visible = visibleEventTypes(ctx.principal) as Set<DomainEventType>;
  if (visible.size === 0) throw new ForbiddenError('This role receives no patient events');
  let types = visible;
  if (args.types) {
    const refused = args.types.filter((t) => !visible.has(t as DomainEventType));
    if (refused.length > 0) throw new ForbiddenError(`This role may not receive ${refused.join(', ')} events`);
    types = new Set(args.types as DomainEventType[]);
  }
  if (!args.patientIds) return { types };
  const max = ctx.services.config.limits.maxPatientsPerRequest;
  if (args.patientIds.length > max) throw new BadUserInputError(`\`patientIds\` may hold at most ${max} ids`, { argument: 'patientIds' });
  for (const id of args.patientIds) {
    if (!UUID.test(id)) throw new BadUserInputError('`patientIds` holds an id that is not a chartgraph patient id', { argument: 'patientIds' });
  }
  const asked = args.patientIds.map((id) => id.toLowerCase());
  const survivors = await ctx.services.index.survivors(asked);
  const people = [...new Set(asked.map((id) => survivors.get(id) ?? id))];
  const mergedAway = await ctx.services.index.mergedInto(people);
  return { types, unifiedIds: new Set([...people, ...[...mergedAway.values()].flat()]) };
}

async function seqAfter(feed: EventFeed, after: string | null | undefined): Promise<bigint | undefined> {
  if (!after) return undefined;
  const seq = isEventId(after) ? await feed.store.seqOf(after) : null;
  if (seq === null) throw new BadUserInputError('`after` is not an event id this feed gave out', { argument: 'after' });
  return seq;
}

/** The schema view of a stored event; records the read in the request's audit trail. */
function toView(ctx: RequestContext, e: StoredEvent): EventView {
  if (e.unifiedId) ctx.audit.read(e.unifiedId, 'events');
  ctx.audit.read(e.unifiedId ?? undefined, GROUP_OF[e.type]);
  return {
    stored: e,
    id: e.id,
    type: e.type as PatientEventType,
    occurredAt: e.occurredAt.toISOString(),
    detectedAt: e.detectedAt.toISOString(),
    abnormal: e.abnormal,
    provenance: e.records.map(
      (r): Provenance => ({ source: ctx.services.sourceRef(r.sourceId), sourceResourceId: r.resourceId, fetchedAt: r.fetchedAt.toISOString(), stale: false }),
    ),
  };
}

@Resolver(() => PatientEvent)
export class PatientEventResolver {
  @Query(() => PatientEventConnection, {
    name: 'patientEvents',
    description: 'What happened to patients at any source (admissions, discharges, emergency visits, new conditions, results, medications), oldest first; for apps that poll.',
  })
  async listPatientEvents(@Args(() => PatientEventsArgs) args: PatientEventsArgs, @Ctx() ctx: RequestContext): Promise<ConnectionShape<EventView>> {
    const feed = feedOf(ctx);
    ctx.audit.lookedUp('patientEvents');
    const { types, unifiedIds } = await filterOf(ctx, args);
    const first = args.first ?? DEFAULT_PAGE_SIZE;
    if (!Number.isInteger(first) || first < 0 || first > MAX_PAGE_SIZE) {
      throw new BadUserInputError(`\`first\` must be between 0 and ${MAX_PAGE_SIZE}`, { argument: 'first' });
    }
    const afterSeq = await seqAfter(feed, args.after);
    const since = args.since ? new Date(args.since) : undefined;
    const filter = { types: [...types], ...(unifiedIds && { unifiedIds: [...unifiedIds] }), ...(since && { since }) };
    const [rows, total] = await Promise.all([
      feed.store.list({ ...filter, afterSeq, limit: first + 1 }),
      feed.store.count(filter),
    ]);
    const page = rows.slice(0, first).map((e) => toView(ctx, e));
    const edges = page.map((node) => ({ cursor: node.id, node }));
    return {
      totalCount: total,
      nodes: page,
      edges,
      pageInfo: {
        hasNextPage: rows.length > first,
        hasPreviousPage: afterSeq !== undefined,
        startCursor: edges[0]?.cursor ?? null,
        endCursor: edges.at(-1)?.cursor ?? null,
      },
    };
  }

  @Subscription(() => PatientEvent, {
    name: 'patientEvents',
    description:
      'Events as they happen, once each, over SSE (`/graphql/stream`) or WebSocket (`/graphql`). With `after`, what was missed since that event comes first.',
    subscribe: ({ args, context }) => subscribeEvents(context as RequestContext, args as PatientEventsSubscriptionArgs),
  })
  onPatientEvent(@Root() e: StoredEvent | typeof DROPPED, @Args(() => PatientEventsSubscriptionArgs) _args: PatientEventsSubscriptionArgs, @Ctx() ctx: RequestContext): EventView {
    if (e === DROPPED) {
      throw new ChartgraphError('Too many events waiting: this subscription was dropped. Subscribe again with `after` set to the last event id received.', 'SLOW_SUBSCRIBER');
    }
    return toView(ctx, e);
  }

  @FieldResolver(() => Patient, { nullable: true })
  async patient(@Root() e: EventView, @Ctx() ctx: RequestContext, @Info() info: GraphQLResolveInfo): Promise<PatientView | null> {
    const id = e.stored.unifiedId;
    if (!id) return null;
    // Every record linked now (not only the event's source): lists under it cover every source.
    // A merged-away id answers its survivor.
    const found = await ctx.patients.linksById.load(id);
    for (const err of found.errors) ctx.partialErrors.add(err, pathOf(info.path));
    const linked = found.value;
    if (!linked) return null;
    const load = async () => {
      const found = await ctx.patients.byId.load(linked.id);
      return found.value ?? linked;
    };
    return lazyPatientView(linked, load, ctx.services.sourceRef);
  }

  @FieldResolver(() => PatientEventItem, { nullable: true })
  item(@Root() e: EventView, @Ctx() ctx: RequestContext): unknown {
    const first = e.stored.records[0];
    if (!first) return null;
    const kind = KINDS[first.resourceType as keyof typeof KINDS];
    if (!kind) return null;
    const mapped = kind.map(first.body as fhir.Resource);
    return { ...mapped, __typename: first.resourceType, id: `${first.sourceId}/${first.resourceType}/${first.resourceId}`, provenance: e.provenance };
  }
}

/** Yielded once when the subscriber fell too far behind: its last message is an error, then the stream ends. */
const DROPPED = Symbol('dropped');

async function subscribeEvents(ctx: RequestContext, args: PatientEventsSubscriptionArgs): Promise<AsyncIterable<StoredEvent | typeof DROPPED>> {
  const feed = feedOf(ctx);
  const sub = ctx.principal.sub;
  // The slot is taken in the same synchronous step as the check, before any await: parallel
  // subscribes on one socket would otherwise all pass the check while `seqOf` is pending.
  const open = feed.openBySubject.get(sub) ?? 0;
  if (open >= feed.maxSubscriptionsPerSubject) {
    throw new ChartgraphError(`At most ${feed.maxSubscriptionsPerSubject} open event subscriptions per client`, 'RATE_LIMITED');
  }
  feed.openBySubject.set(sub, open + 1);
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    const n = (feed.openBySubject.get(sub) ?? 1) - 1;
    if (n <= 0) feed.openBySubject.delete(sub);
    else feed.openBySubject.set(sub, n);
  };
  let events: AsyncIterator<StoredEvent>;
  try {
    const { types, unifiedIds } = await filterOf(ctx, args);
    const afterSeq = await seqAfter(feed, args.after);
    events = feed.tail.subscribe({ afterSeq, types, unifiedIds, maxQueue: feed.subscriberQueueSize });
  } catch (err) {
    release();
    throw err;
  }
  let dropped = false;
  // A plain iterator (see EventTail.subscribe): closing must release the slot at once. The
  // transports call `return` on a subscription closed before its first event, too.
  const iterator: AsyncIterableIterator<StoredEvent | typeof DROPPED> = {
    async next() {
      if (released) return { done: true, value: undefined };
      try {
        const r = await events.next();
        if (r.done) release();
        // Each event runs as its own request: its deadline starts when it arrives, not at subscribe time.
        else renewRequestContext(ctx);
        return r;
      } catch (err) {
        release();
        if (err instanceof SlowSubscriberError && !dropped) {
          dropped = true;
          return { done: false, value: DROPPED };
        }
        throw err;
      }
    },
    async return() {
      release();
      await events.return?.();
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
  return iterator;
}
