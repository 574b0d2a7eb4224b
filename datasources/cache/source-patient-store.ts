import { Prisma, type PrismaClient } from './generated/client.js';

/** Demographics of one source patient as the blocking index holds them (folded; PHI, never logged). */
export interface SourcePatientRow {
  sourceId: string;
  sourcePatientId: string;
  familyKey: string | null;
  /** Every family name of the record (official, maiden, old). */
  familyKeys: string[];
  givenKeys: string[];
  birthDate: string | null;
  gender: string | null;
  addressLine: string | null;
  postalCode: string | null;
  phone: string | null;
  /** `system|value` each. */
  identifiers: string[];
  lastUpdated: Date | null;
  /** Blocking key: phonetic code of the family name. */
  familySound: string | null;
  /** Blocking key: year of `birthDate`. */
  birthYear: number | null;
}

/** Blocking keys to look candidates up by: a row is a candidate when it shares any one. */
export interface BlockingQuery {
  birthDates: readonly string[];
  phones: readonly string[];
  /** `[familySound, birthYear]` pairs. */
  soundYears: readonly (readonly [string, number])[];
  /** `system|value` tokens of strong identifiers. */
  identifiers: readonly string[];
}

const COLUMNS = Prisma.raw(
  `"source_id", "source_patient_id", "family_key", "family_keys", "given_keys", "birth_date", "gender", "address_line",
   "postal_code", "phone", "identifiers", "last_updated", "family_sound", "birth_year", "indexed_at"`,
);

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

  /**
   * Inserts or refreshes these rows: one INSERT ... ON CONFLICT statement per 1,000 rows
   * (a population sync writes pages of hundreds), in key order so that two writers of
   * overlapping rows lock them in one order.
   */
  async upsertMany(rows: readonly SourcePatientRow[]): Promise<void> {
    if (rows.length === 0) return;
    const indexedAt = new Date();
    const unique = new Map(rows.map((r) => [`${r.sourceId}/${r.sourcePatientId}`, r]));
    const sorted = [...unique.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r);
    for (let i = 0; i < sorted.length; i += 1000) {
      const values = sorted.slice(i, i + 1000).map(
        (r) => Prisma.sql`(${r.sourceId}, ${r.sourcePatientId}, ${r.familyKey}, ${r.familyKeys}::text[], ${r.givenKeys}::text[], ${r.birthDate},
          ${r.gender}, ${r.addressLine}, ${r.postalCode}, ${r.phone}, ${r.identifiers}::text[], ${r.lastUpdated}::timestamptz,
          ${r.familySound}, ${r.birthYear}::int, ${indexedAt}::timestamptz)`,
      );
      await this.prisma.$executeRaw`INSERT INTO "source_patient" (${COLUMNS}) VALUES ${Prisma.join(values)}
        ON CONFLICT ("source_id", "source_patient_id") DO UPDATE SET
          "family_key" = EXCLUDED."family_key", "family_keys" = EXCLUDED."family_keys", "given_keys" = EXCLUDED."given_keys",
          "birth_date" = EXCLUDED."birth_date", "gender" = EXCLUDED."gender", "address_line" = EXCLUDED."address_line",
          "postal_code" = EXCLUDED."postal_code", "phone" = EXCLUDED."phone", "identifiers" = EXCLUDED."identifiers",
          "last_updated" = EXCLUDED."last_updated", "family_sound" = EXCLUDED."family_sound", "birth_year" = EXCLUDED."birth_year",
          "indexed_at" = EXCLUDED."indexed_at"`;
    }
  }

  /**
   * Rows outside `excludeSourceId` that share at least one blocking key with the query: the
   * candidates a population sync compares, instead of all pairs. Each key is indexed, so
   * the cost follows the size of the blocks, not of the population.
   */
  async blockingCandidates(query: BlockingQuery, excludeSourceId: string): Promise<SourcePatientRow[]> {
    const sounds = [...new Set(query.soundYears.map(([s]) => s))];
    const years = [...new Set(query.soundYears.map(([, y]) => y))];
    const or: Prisma.SourcePatientWhereInput[] = [];
    if (query.birthDates.length) or.push({ birthDate: { in: [...new Set(query.birthDates)] } });
    if (query.phones.length) or.push({ phone: { in: [...new Set(query.phones)] } });
    if (sounds.length) or.push({ familySound: { in: sounds }, birthYear: { in: years } });
    if (query.identifiers.length) or.push({ identifiers: { hasSome: [...new Set(query.identifiers)] } });
    if (or.length === 0) return [];
    const wanted = new Set(query.soundYears.map(([s, y]) => `${s}|${y}`));
    const idTokens = new Set(query.identifiers);
    const birthDates = new Set(query.birthDates);
    const phones = new Set(query.phones);
    const rows = await this.prisma.sourcePatient.findMany({
      where: { sourceId: { not: excludeSourceId }, OR: or },
      omit: { indexedAt: true },
    });
    // Sound and year were matched as two lists: keep only the pairs asked for.
    return rows.filter(
      (r) =>
        (r.birthDate !== null && birthDates.has(r.birthDate)) ||
        (r.phone !== null && phones.has(r.phone)) ||
        wanted.has(`${r.familySound}|${r.birthYear}`) ||
        r.identifiers.some((t) => idTokens.has(t)),
    );
  }

  /** The rows of these source patients, keyed `source/id`. */
  async getMany(keys: readonly { sourceId: string; sourcePatientId: string }[]): Promise<Map<string, SourcePatientRow>> {
    const out = new Map<string, SourcePatientRow>();
    const bySource = new Map<string, string[]>();
    for (const k of keys) {
      const ids = bySource.get(k.sourceId);
      if (ids) ids.push(k.sourcePatientId);
      else bySource.set(k.sourceId, [k.sourcePatientId]);
    }
    if (bySource.size === 0) return out;
    const rows = await this.prisma.sourcePatient.findMany({
      where: { OR: [...bySource].map(([sourceId, ids]) => ({ sourceId, sourcePatientId: { in: ids } })) },
      omit: { indexedAt: true },
    });
    for (const r of rows) out.set(`${r.sourceId}/${r.sourcePatientId}`, r);
    return out;
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
