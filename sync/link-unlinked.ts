import type { PrismaClient } from '../datasources/cache/generated/client.js';
import type { PopulationLinker } from '../identity/population-linker.js';

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
