import { randomUUID } from 'node:crypto';
import type { Prisma, PrismaClient } from './generated/client.js';

/** One audit event as chartgraph records it. */
export interface AuditRecord {
  id: string;
  at: Date;
  requestId: string;
  /** The token's subject. */
  subject: string;
  role: string;
  /** `X-Purpose-Of-Use` (TREAT, HPAYMT, HOPERAT, ...), null when absent. */
  purposeOfUse: string | null;
  /** `read` for GraphQL reads; admin actions use their own names (link, unlink, ...). */
  action: string;
  /** Unified patient ids touched. */
  patientIds: string[];
  /** Field groups requested: demographics, identifiers, conditions, ... */
  fieldGroups: string[];
  /** `success`, `partial`, `denied` or `error`. */
  outcome: string;
  /** Non-PHI detail: operation name, denied groups, error codes. */
  detail: Record<string, unknown> | null;
}

/** Filters of {@link AuditStore.list}; all optional, combined with AND. */
export interface AuditFilter {
  subject?: string | null;
  patientId?: string | null;
  outcome?: string | null;
  /** Inclusive lower bound of `at`. */
  from?: Date | null;
  /** Exclusive upper bound of `at`. */
  to?: Date | null;
}

/** A position in the newest-first order: after this event. */
export interface AuditCursor {
  at: Date;
  id: string;
}

/** A new event with a fresh id. */
export function newAuditRecord(fields: Omit<AuditRecord, 'id'>): AuditRecord {
  return { id: randomUUID(), ...fields };
}

const INSERT_EVENTS = `INSERT INTO "audit_event"
  ("id", "at", "request_id", "subject", "role", "purpose_of_use", "action", "patient_ids", "field_groups", "outcome", "detail")
SELECT r."id"::uuid, r."at", r."requestId", r."subject", r."role", r."purposeOfUse", r."action",
  ARRAY(SELECT jsonb_array_elements_text(r."patientIds")), ARRAY(SELECT jsonb_array_elements_text(r."fieldGroups")), r."outcome", r."detail"
FROM jsonb_to_recordset($1::jsonb) AS r("id" text, "at" timestamptz, "requestId" text, "subject" text, "role" text,
  "purposeOfUse" text, "action" text, "patientIds" jsonb, "fieldGroups" jsonb, "outcome" text, "detail" jsonb)
ON CONFLICT ("id") DO NOTHING`;

/** Audit events in the cache database (table `audit_event`). */
export class AuditStore {
  constructor(private readonly prisma: PrismaClient) {}

  /** Inserts a batch in one statement; an event already stored (same id: a spool replayed twice) is skipped. */
  async insertMany(records: readonly AuditRecord[]): Promise<void> {
    if (records.length === 0) return;
    // One statement with the batch as one JSON parameter: a gateway under load writes an
    // event per request, and a per-row parameter list costs far more to build and plan.
    await this.prisma.$executeRawUnsafe(INSERT_EVENTS, JSON.stringify(records));
  }

  /** Events matching the filter, newest first, `limit` of them after the cursor; plus the total count. */
  async list(filter: AuditFilter, page: { limit: number; after?: AuditCursor | null }): Promise<{ items: AuditRecord[]; totalCount: number }> {
    const where: Prisma.AuditEventWhereInput = {
      ...(filter.subject && { subject: filter.subject }),
      ...(filter.patientId && { patientIds: { has: filter.patientId } }),
      ...(filter.outcome && { outcome: filter.outcome }),
      ...((filter.from || filter.to) && { at: { ...(filter.from && { gte: filter.from }), ...(filter.to && { lt: filter.to }) } }),
    };
    const after = page.after;
    const pageWhere: Prisma.AuditEventWhereInput = after
      ? { AND: [where, { OR: [{ at: { lt: after.at } }, { at: after.at, id: { lt: after.id } }] }] }
      : where;
    const [rows, totalCount] = await Promise.all([
      this.prisma.auditEvent.findMany({ where: pageWhere, orderBy: [{ at: 'desc' }, { id: 'desc' }], take: page.limit }),
      this.prisma.auditEvent.count({ where }),
    ]);
    return {
      items: rows.map((r) => ({ ...r, detail: (r.detail as Record<string, unknown> | null) ?? null })),
      totalCount,
    };
  }
}
