import type { PrismaClient } from './generated/client.js';

/** Demographics of one source patient as the blocking index holds them (folded; PHI, never logged). */
export interface SourcePatientRow {
  sourceId: string;
  sourcePatientId: string;
  familyKey: string | null;
  givenKeys: string[];
  birthDate: string | null;
  gender: string | null;
  postalCode: string | null;
  phone: string | null;
  /** `system|value` each. */
  identifiers: string[];
  lastUpdated: Date | null;
}

/** What `search` filters on; every given part must hold. */
export interface SourcePatientQuery {
  /** Folded name tokens: each must be the start of the family name or equal one given name (or one of `givenVariants`). */
  nameTokens?: { token: string; givenVariants: string[] }[];
  birthDate?: string;
  gender?: string;
  limit: number;
}

/**
 * The SourcePatient table: demographics of every source patient the gateway has seen, for
 * blocking (candidate pairs by birth date) and for `searchPatients` over the index.
 */
export class SourcePatientStore {
  constructor(private readonly prisma: PrismaClient) {}

  /** Inserts or refreshes these rows, in one transaction. */
  async upsertMany(rows: readonly SourcePatientRow[]): Promise<void> {
    if (rows.length === 0) return;
    const indexedAt = new Date();
    const unique = new Map(rows.map((r) => [`${r.sourceId}/${r.sourcePatientId}`, r]));
    // Key order, so that two requests upserting overlapping rows lock them in one order.
    const sorted = [...unique.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r);
    await this.prisma.$transaction(
      sorted.map((r) => {
        const data = { ...r, indexedAt };
        return this.prisma.sourcePatient.upsert({
          where: { sourceId_sourcePatientId: { sourceId: r.sourceId, sourcePatientId: r.sourcePatientId } },
          create: data,
          update: data,
        });
      }),
    );
  }

  /** Rows of these sources born on any of these dates: blocking candidates. */
  async findByBirthDates(birthDates: readonly string[], sourceIds: readonly string[], limit = 50): Promise<SourcePatientRow[]> {
    if (birthDates.length === 0 || sourceIds.length === 0) return [];
    return this.prisma.sourcePatient.findMany({
      where: { birthDate: { in: [...birthDates] }, sourceId: { in: [...sourceIds] } },
      orderBy: [{ sourceId: 'asc' }, { sourcePatientId: 'asc' }],
      take: limit,
      omit: { indexedAt: true },
    });
  }

  /** Rows matching a patient search, ordered by family name, given names and key. */
  async search(query: SourcePatientQuery): Promise<SourcePatientRow[]> {
    return this.prisma.sourcePatient.findMany({
      where: {
        AND: [
          ...(query.nameTokens ?? []).map((t) => ({
            OR: [{ familyKey: { startsWith: t.token } }, { givenKeys: { hasSome: [t.token, ...t.givenVariants] } }],
          })),
          ...(query.birthDate ? [{ birthDate: query.birthDate }] : []),
          ...(query.gender ? [{ gender: query.gender }] : []),
        ],
      },
      orderBy: [{ familyKey: 'asc' }, { birthDate: 'asc' }, { sourceId: 'asc' }, { sourcePatientId: 'asc' }],
      take: query.limit,
      omit: { indexedAt: true },
    });
  }
}
