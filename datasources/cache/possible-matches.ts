import { randomUUID } from 'node:crypto';
import type { Prisma, PrismaClient } from './generated/client.js';

/** Review states of a possible match. */
export type PossibleMatchStatus = 'open' | 'linked' | 'rejected';

/** A scored pair kept for review: a unified patient and a source record that may be the same person. */
export interface PossibleMatchRow {
  id: string;
  unifiedId: string;
  candidateSourceId: string;
  candidateSourcePatientId: string;
  score: number;
  /** Per-field outcomes and weights (no values). */
  evidence: unknown;
  status: string;
  createdAt: Date;
  reviewedAt: Date | null;
  reviewedBy: string | null;
}

/** A new possible match. */
export interface NewPossibleMatch {
  unifiedId: string;
  candidateSourceId: string;
  candidateSourcePatientId: string;
  score: number;
  evidence: Prisma.InputJsonValue;
  status?: PossibleMatchStatus;
}

/** The PossibleMatch table: pairs the matcher would not link on its own, and admins' verdicts on them. */
export class PossibleMatchStore {
  constructor(private readonly prisma: PrismaClient) {}

  /**
   * Keeps these pairs. A pair already on file keeps its row and status: a rejected pair
   * stays rejected however often the matcher meets it again.
   */
  async addMany(items: readonly NewPossibleMatch[], client: PrismaClient | Prisma.TransactionClient = this.prisma): Promise<void> {
    if (items.length === 0) return;
    await client.possibleMatch.createMany({
      data: items.map((i) => ({
        id: randomUUID(),
        unifiedId: i.unifiedId,
        candidateSourceId: i.candidateSourceId,
        candidateSourcePatientId: i.candidateSourcePatientId,
        score: i.score,
        evidence: i.evidence,
        status: i.status ?? 'open',
      })),
      skipDuplicates: true,
    });
  }

  /** One page in review order (oldest first), and how many there are in all. */
  async list(status: PossibleMatchStatus | null, skip: number, take: number): Promise<{ rows: PossibleMatchRow[]; total: number }> {
    const where = status ? { status } : {};
    const [rows, total] = await Promise.all([
      this.prisma.possibleMatch.findMany({ where, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }], skip, take }),
      this.prisma.possibleMatch.count({ where }),
    ]);
    return { rows, total };
  }

  /** Candidates an admin rejected (or unlinked) for this unified patient, as `source/id` keys: never to be linked automatically. */
  async rejectedFor(unifiedIds: readonly string[]): Promise<Set<string>> {
    if (unifiedIds.length === 0) return new Set();
    const rows = await this.prisma.possibleMatch.findMany({
      where: { unifiedId: { in: [...unifiedIds] }, status: 'rejected' },
      select: { candidateSourceId: true, candidateSourcePatientId: true },
    });
    return new Set(rows.map((r) => `${r.candidateSourceId}/${r.candidateSourcePatientId}`));
  }

  /** Rejected pairs among these unified patients, as `unifiedId|sourceId/sourcePatientId` keys. */
  async rejectedPairs(unifiedIds: readonly string[]): Promise<Set<string>> {
    if (unifiedIds.length === 0) return new Set();
    const rows = await this.prisma.possibleMatch.findMany({
      where: { unifiedId: { in: [...new Set(unifiedIds)] }, status: 'rejected' },
      select: { unifiedId: true, candidateSourceId: true, candidateSourcePatientId: true },
    });
    return new Set(rows.map((r) => `${r.unifiedId}|${r.candidateSourceId}/${r.candidateSourcePatientId}`));
  }

  async get(id: string): Promise<PossibleMatchRow | null> {
    return this.prisma.possibleMatch.findUnique({ where: { id } });
  }

  /**
   * Closes an open match with a verdict. False when it was not open any more (another
   * admin decided first): the compare-and-set keeps two reviews from both acting.
   */
  async close(id: string, status: Exclude<PossibleMatchStatus, 'open'>, reviewedBy: string, client: PrismaClient | Prisma.TransactionClient = this.prisma): Promise<boolean> {
    const { count } = await client.possibleMatch.updateMany({
      where: { id, status: 'open' },
      data: { status, reviewedAt: new Date(), reviewedBy },
    });
    return count === 1;
  }
}
