import type { PrismaClient } from './generated/client.js';

/** One page of a walk over every unified patient. */
export interface PatientWalkPage {
  /** Unified ids in ascending order, each after the previous page's last. */
  ids: string[];
  /** Whether more patients follow this page. */
  hasMore: boolean;
}

/**
 * Keyset pages over every unified patient that has a record in one of the given sources,
 * in id order. The key is the unified id itself, so a walk returns each patient exactly
 * once however long it takes between pages (a patient linked meanwhile appears if its id
 * sorts after the cursor); a patient merged into another has no links left and drops out.
 */
export class PatientWalk {
  constructor(private readonly prisma: PrismaClient) {}

  /** Up to `limit` unified ids after `after` (exclusive; null: from the start). */
  async page(sourceIds: readonly string[], after: string | null, limit: number): Promise<PatientWalkPage> {
    if (sourceIds.length === 0 || limit <= 0) return { ids: [], hasMore: limit <= 0 && (await this.count(sourceIds)) > 0 };
    // One row more than asked says whether another page follows.
    // Ordered as uuids (byte order), the same order the cursor comparison uses; never as
    // text, whose order depends on the database's collation.
    const rows = after
      ? await this.prisma.$queryRaw<{ id: string }[]>`
          SELECT u::text AS id FROM (
            SELECT DISTINCT unified_id AS u FROM patient_link
            WHERE source_id = ANY(${[...sourceIds]}::text[]) AND unified_id > ${after}::uuid
          ) t ORDER BY u LIMIT ${limit + 1}`
      : await this.prisma.$queryRaw<{ id: string }[]>`
          SELECT u::text AS id FROM (
            SELECT DISTINCT unified_id AS u FROM patient_link WHERE source_id = ANY(${[...sourceIds]}::text[])
          ) t ORDER BY u LIMIT ${limit + 1}`;
    return { ids: rows.slice(0, limit).map((r) => r.id), hasMore: rows.length > limit };
  }

  /** How many unified patients the walk visits. */
  async count(sourceIds: readonly string[]): Promise<number> {
    if (sourceIds.length === 0) return 0;
    const [row] = await this.prisma.$queryRaw<{ n: bigint | number }[]>`
      SELECT COUNT(DISTINCT unified_id) AS n FROM patient_link WHERE source_id = ANY(${[...sourceIds]}::text[])`;
    return Number(row?.n ?? 0);
  }
}
