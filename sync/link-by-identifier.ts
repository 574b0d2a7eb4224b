import type { PrismaClient } from '../datasources/cache/generated/client.js';
import { linkKey, type LinkRequest, type PatientIndex } from '../datasources/cache/patient-index.js';
import type { SourcePatientRow } from '../datasources/cache/source-patient-store.js';

/** Links freshly indexed source patients into unified patients. */
export interface PopulationLinker {
  /** Links these rows of one source (already written to `source_patient`); returns how many link calls changed something. */
  link(sourceId: string, rows: readonly SourcePatientRow[]): Promise<number>;
}

type Candidate = Pick<SourcePatientRow, 'sourceId' | 'sourcePatientId' | 'birthDate' | 'identifiers'>;

// Tokens per `hasSome` query: keeps the bind parameters far below Postgres' limit.
const TOKENS_PER_QUERY = 5_000;

/**
 * The gateway's rule (identity/patient-directory.ts) applied to the whole index: a record
 * joins the records of other sources that share one of its strong identifiers (SSN,
 * enterprise id) when birth dates agree or one is missing. An identifier held by two records
 * of one source is ambiguous and links nothing; so is a source offering two different
 * records through two identifiers. A record with no match still gets a unified patient of its
 * own, as the gateway gives one to every record it sees. Existing links are never moved
 * (`PatientIndex.linkRecords` never merges unified patients).
 */
export function identifierLinker(prisma: PrismaClient, index: PatientIndex, strongSystems: readonly string[]): PopulationLinker {
  const strong = (row: Pick<SourcePatientRow, 'identifiers'>) =>
    row.identifiers.filter((t) => strongSystems.includes(t.slice(0, Math.max(0, t.indexOf('|')))));

  return {
    async link(sourceId, rows) {
      if (rows.length === 0) return 0;
      const tokens = [...new Set(rows.flatMap(strong))];
      const holders = new Map<string, Candidate[]>();
      for (let i = 0; i < tokens.length; i += TOKENS_PER_QUERY) {
        const part = tokens.slice(i, i + TOKENS_PER_QUERY);
        const found = await prisma.sourcePatient.findMany({
          where: { identifiers: { hasSome: part } },
          select: { sourceId: true, sourcePatientId: true, birthDate: true, identifiers: true },
        });
        const wanted = new Set(part);
        for (const c of found) {
          for (const t of c.identifiers) {
            if (!wanted.has(t)) continue;
            const list = holders.get(t) ?? [];
            if (!list.some((x) => x.sourceId === c.sourceId && x.sourcePatientId === c.sourcePatientId)) list.push(c);
            holders.set(t, list);
          }
        }
      }

      const groups: LinkRequest[][] = rows.map((row) => {
        const chosen = new Map<string, Candidate | null>();
        for (const token of strong(row)) {
          const list = holders.get(token) ?? [];
          if (list.some((c) => c.sourceId === sourceId && c.sourcePatientId !== row.sourcePatientId)) continue;
          const bySource = new Map<string, Candidate[]>();
          for (const c of list) if (c.sourceId !== sourceId) bySource.set(c.sourceId, [...(bySource.get(c.sourceId) ?? []), c]);
          for (const [other, cands] of bySource) {
            const pick = cands.length === 1 && agrees(cands[0]!.birthDate, row.birthDate) ? cands[0]! : null;
            const prior = chosen.get(other);
            if (prior === undefined) chosen.set(other, pick);
            else if (prior && (!pick || prior.sourcePatientId !== pick.sourcePatientId)) chosen.set(other, null);
          }
        }
        const matches = [...chosen.values()].filter((c): c is Candidate => c !== null);
        return [row, ...matches].map((r) => ({ sourceId: r.sourceId, sourcePatientId: r.sourcePatientId, method: 'identifier' }));
      });

      // One query tells which groups are linked already (the common case on a re-run).
      const known = await index.findLinks(groups.flat());
      let changed = 0;
      for (const group of groups) {
        const ids = group.map((r) => known.get(linkKey(r))?.unifiedId);
        if (ids.every((id) => id !== undefined && id === ids[0])) continue;
        const unifiedId = await index.linkRecords(group);
        for (const r of group) if (!known.has(linkKey(r))) known.set(linkKey(r), { ...r, unifiedId, score: null, createdAt: new Date() });
        changed++;
      }
      return changed;
    },
  };
}

function agrees(a: string | null, b: string | null): boolean {
  return !a || !b || a === b;
}

const UNLINKED = `SELECT sp."source_patient_id" AS id FROM "source_patient" sp
WHERE sp."source_id" = $1 AND NOT EXISTS (
  SELECT 1 FROM "patient_link" pl WHERE pl."source_id" = sp."source_id" AND pl."source_patient_id" = sp."source_patient_id")
ORDER BY sp."source_patient_id" LIMIT $2`;

/**
 * Links the rows of one source that have no link yet: the records a killed run wrote but did
 * not get to link. Returns how many it linked.
 */
export async function linkUnlinked(prisma: PrismaClient, linker: PopulationLinker, sourceId: string, batch = 500): Promise<number> {
  let total = 0;
  let previous = '';
  for (;;) {
    const ids = (await prisma.$queryRawUnsafe<{ id: string }[]>(UNLINKED, sourceId, batch)).map((r) => r.id);
    // A linker that declines some rows would otherwise return them forever.
    if (ids.length === 0 || ids.join('\u0000') === previous) return total;
    previous = ids.join('\u0000');
    const rows = await prisma.sourcePatient.findMany({ where: { sourceId, sourcePatientId: { in: ids } }, omit: { indexedAt: true } });
    await linker.link(sourceId, rows);
    total += rows.length;
  }
}
