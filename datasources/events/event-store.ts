import type { Prisma, PrismaClient } from '../cache/generated/client.js';
import type { SeenResource } from '../../events/detect-events.js';
import type { PatientEventType } from '../../events/event-types.js';

/** The NOTIFY channel on which a stored batch announces its highest seq. */
export const EVENTS_CHANNEL = 'chartgraph_events';
/** The NOTIFY channel on which a FHIR Subscription notification asks a source's poller to poll now. */
export const WAKE_CHANNEL = 'chartgraph_event_wake';
// Every event insert holds this transaction lock, so seq order is commit order across replicas.
const EVENT_INSERT_LOCK = 0x63676576; // "cgev"

/** One source resource behind an event. */
export interface EventRecordInput {
  sourceId: string;
  resourceType: string;
  resourceId: string;
  sourcePatientId: string;
  versionId: string | null;
  body: unknown;
  fetchedAt: Date;
}

/** An event to store: its stable id and what the detector found. */
export interface EventInput {
  id: string;
  type: PatientEventType;
  occurredAt: Date;
  detectedAt: Date;
  abnormal: boolean | null;
  record: EventRecordInput;
}

/** What one poll of one (source, type) writes, all in one transaction. */
export interface PollBatch {
  sourceId: string;
  resourceType: string;
  events: EventInput[];
  states: Array<{ resourceId: string; seen: SeenResource }>;
  /** The new cursor, or null to keep the old one. */
  cursor: Date | null;
}

/** A stored event as readers see it, with the unified patient resolved now (merges show the survivor). */
export interface StoredEvent {
  id: string;
  seq: bigint;
  type: PatientEventType;
  occurredAt: Date;
  detectedAt: Date;
  abnormal: boolean | null;
  /** Null when none of its source patients is linked any more (an admin unlinked them). */
  unifiedId: string | null;
  records: EventRecordInput[];
}

/** Which events to read. */
export interface EventFilter {
  /** Only events after this seq. */
  afterSeq?: bigint;
  /** Only events that happened at or after this time. */
  since?: Date;
  /** Only these event types; undefined = all. */
  types?: readonly PatientEventType[];
  /** Only events of these unified patients; undefined = all. */
  unifiedIds?: readonly string[];
  limit: number;
}

interface EventRow {
  id: string;
  seq: string;
  type: string;
  occurred_at: Date;
  detected_at: Date;
  abnormal: boolean | null;
  unified_id: string | null;
  records: Array<{ sourceId: string; resourceType: string; resourceId: string; sourcePatientId: string; versionId: string | null; body: unknown; fetchedAt: string }>;
}

/**
 * The event feed's tables: events and their source records, per-(source, type) cursors, the
 * versions seen, and the poller leases. Plain SQL where the shape needs it (one statement per
 * read), Prisma elsewhere.
 */
export class EventStore {
  constructor(private readonly prisma: PrismaClient) {}

  /**
   * Takes or renews the poller lease of a source for `ttlMs`; true when `holder` has it now.
   * One statement, so two replicas asking at once cannot both win.
   */
  async claimLease(sourceId: string, holder: string, ttlMs: number): Promise<boolean> {
    const rows = await this.prisma.$queryRawUnsafe<{ holder: string }[]>(
      `INSERT INTO event_poller_lease (source_id, holder, expires_at) VALUES ($1, $2, now() + ($3::int * interval '1 millisecond'))
       ON CONFLICT (source_id) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
       WHERE event_poller_lease.holder = EXCLUDED.holder OR event_poller_lease.expires_at < now()
       RETURNING holder`,
      sourceId,
      holder,
      Math.round(ttlMs),
    );
    return rows.length === 1 && rows[0].holder === holder;
  }

  /** Gives the lease up (graceful shutdown), so another replica takes over at once. */
  async releaseLease(sourceId: string, holder: string): Promise<void> {
    await this.prisma.eventPollerLease.deleteMany({ where: { sourceId, holder } });
  }

  /** The cursor of a (source, type); null before the first poll. */
  async cursor(sourceId: string, resourceType: string): Promise<Date | null> {
    const row = await this.prisma.eventCursor.findUnique({ where: { sourceId_resourceType: { sourceId, resourceType } } });
    return row?.since ?? null;
  }

  /** Sets a cursor without events (the first poll starts from now). */
  async setCursor(sourceId: string, resourceType: string, since: Date): Promise<void> {
    await this.prisma.eventCursor.upsert({
      where: { sourceId_resourceType: { sourceId, resourceType } },
      create: { sourceId, resourceType, since, updatedAt: new Date() },
      update: { since, updatedAt: new Date() },
    });
  }

  /** What the feed last saw of these resources. One query. */
  async seen(sourceId: string, resourceType: string, resourceIds: readonly string[]): Promise<Map<string, SeenResource>> {
    const out = new Map<string, SeenResource>();
    if (resourceIds.length === 0) return out;
    const rows = await this.prisma.eventResourceState.findMany({ where: { sourceId, resourceType, resourceId: { in: [...new Set(resourceIds)] } } });
    for (const r of rows) out.set(r.resourceId, { versionId: r.versionId, lastUpdated: r.lastUpdated?.toISOString() ?? null, status: r.status });
    return out;
  }

  /**
   * Writes one poll's outcome in one transaction: new events (an id already stored gains this
   * source's record instead: the cross-source de-duplication), the versions seen and the
   * cursor. Announces the batch on {@link EVENTS_CHANNEL} at commit. Returns the ids of events
   * that were new.
   */
  async writeBatch(batch: PollBatch): Promise<string[]> {
    return this.prisma.$transaction(
      async (tx) => {
        const fresh: string[] = [];
        if (batch.events.length > 0) {
          await tx.$executeRawUnsafe(`SELECT pg_advisory_xact_lock(${EVENT_INSERT_LOCK})`);
          for (const e of batch.events) {
            const inserted = await tx.$queryRawUnsafe<{ id: string }[]>(
              `INSERT INTO patient_event (id, type, occurred_at, detected_at, abnormal) VALUES ($1, $2, $3::timestamptz, $4::timestamptz, $5)
               ON CONFLICT (id) DO NOTHING RETURNING id`,
              e.id,
              e.type,
              e.occurredAt.toISOString(),
              e.detectedAt.toISOString(),
              e.abnormal,
            );
            if (inserted.length === 1) fresh.push(e.id);
            await tx.$executeRawUnsafe(
              `INSERT INTO patient_event_record (event_id, source_id, resource_type, resource_id, source_patient_id, version_id, body, fetched_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::timestamptz) ON CONFLICT DO NOTHING`,
              e.id,
              e.record.sourceId,
              e.record.resourceType,
              e.record.resourceId,
              e.record.sourcePatientId,
              e.record.versionId,
              JSON.stringify(e.record.body),
              e.record.fetchedAt.toISOString(),
            );
          }
          if (fresh.length > 0) await tx.$executeRawUnsafe(`SELECT pg_notify('${EVENTS_CHANNEL}', (SELECT max(seq)::text FROM patient_event))`);
        }
        await writeStates(tx, batch);
        if (batch.cursor) {
          await tx.eventCursor.upsert({
            where: { sourceId_resourceType: { sourceId: batch.sourceId, resourceType: batch.resourceType } },
            create: { sourceId: batch.sourceId, resourceType: batch.resourceType, since: batch.cursor, updatedAt: new Date() },
            update: { since: batch.cursor, updatedAt: new Date() },
          });
        }
        return fresh;
      },
      { maxWait: 10_000, timeout: 30_000 },
    );
  }

  /** The seq of a stored event; null when the id is unknown. */
  async seqOf(eventId: string): Promise<bigint | null> {
    const row = await this.prisma.patientEvent.findUnique({ where: { id: eventId }, select: { seq: true } });
    return row ? row.seq : null;
  }

  /** The highest seq stored (0 when there is none). */
  async lastSeq(): Promise<bigint> {
    const rows = await this.prisma.$queryRawUnsafe<{ seq: string | null }[]>(`SELECT max(seq)::text AS seq FROM patient_event`);
    return BigInt(rows[0]?.seq ?? '0');
  }

  /** How many events match (ignoring `afterSeq` and `limit`). */
  async count(filter: Omit<EventFilter, 'afterSeq' | 'limit'>): Promise<number> {
    const params: unknown[] = ['0'];
    const where = filterSql(filter, params);
    const rows = await this.prisma.$queryRawUnsafe<{ n: number }[]>(`SELECT count(*)::int AS n FROM patient_event e WHERE ${where.join(' AND ')}`, ...params);
    return Number(rows[0]?.n ?? 0);
  }

  /** Events in seq order, filtered; one query. */
  async list(filter: EventFilter): Promise<StoredEvent[]> {
    const params: unknown[] = [(filter.afterSeq ?? 0n).toString()];
    const where = filterSql(filter, params);
    params.push(filter.limit);
    const rows = await this.prisma.$queryRawUnsafe<EventRow[]>(
      `SELECT e.id, e.seq::text AS seq, e.type, e.occurred_at, e.detected_at, e.abnormal,
         (SELECT l.unified_id::text FROM patient_event_record r JOIN patient_link l ON l.source_id = r.source_id AND l.source_patient_id = r.source_patient_id
           WHERE r.event_id = e.id ORDER BY r.fetched_at, r.source_id LIMIT 1) AS unified_id,
         (SELECT json_agg(json_build_object('sourceId', r.source_id, 'resourceType', r.resource_type, 'resourceId', r.resource_id,
             'sourcePatientId', r.source_patient_id, 'versionId', r.version_id, 'body', r.body, 'fetchedAt', r.fetched_at) ORDER BY r.fetched_at, r.source_id)
           FROM patient_event_record r WHERE r.event_id = e.id) AS records
       FROM patient_event e WHERE ${where.join(' AND ')} ORDER BY e.seq LIMIT $${params.length}`,
      ...params,
    );
    return rows.map(toStoredEvent);
  }
}

/** WHERE clauses of a filter; `params[0]` is the seq bound. */
function filterSql(filter: Omit<EventFilter, 'limit'>, params: unknown[]): string[] {
  const where = ['e.seq > $1::bigint'];
  if (filter.since) {
    params.push(filter.since.toISOString());
    where.push(`e.occurred_at >= $${params.length}::timestamptz`);
  }
  if (filter.types) {
    params.push([...filter.types]);
    where.push(`e.type = ANY($${params.length}::text[])`);
  }
  if (filter.unifiedIds) {
    params.push([...filter.unifiedIds]);
    where.push(
      `EXISTS (SELECT 1 FROM patient_event_record r JOIN patient_link l ON l.source_id = r.source_id AND l.source_patient_id = r.source_patient_id
               WHERE r.event_id = e.id AND l.unified_id::text = ANY($${params.length}::text[]))`,
    );
  }
  return where;
}

async function writeStates(tx: Prisma.TransactionClient, batch: PollBatch): Promise<void> {
  for (const s of batch.states) {
    const data = {
      versionId: s.seen.versionId,
      lastUpdated: s.seen.lastUpdated ? new Date(s.seen.lastUpdated) : null,
      status: s.seen.status,
    };
    await tx.eventResourceState.upsert({
      where: { sourceId_resourceType_resourceId: { sourceId: batch.sourceId, resourceType: batch.resourceType, resourceId: s.resourceId } },
      create: { sourceId: batch.sourceId, resourceType: batch.resourceType, resourceId: s.resourceId, ...data },
      update: data,
    });
  }
}

function toStoredEvent(row: EventRow): StoredEvent {
  const records = (typeof row.records === 'string' ? JSON.parse(row.records) : row.records) as EventRow['records'] | null;
  return {
    id: row.id,
    seq: BigInt(row.seq),
    type: row.type as PatientEventType,
    occurredAt: new Date(row.occurred_at),
    detectedAt: new Date(row.detected_at),
    abnormal: row.abnormal,
    unifiedId: row.unified_id,
    records: (records ?? []).map((r) => ({ ...r, fetchedAt: new Date(r.fetchedAt) })),
  };
}
