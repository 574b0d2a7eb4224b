import type { PrismaClient } from '../datasources/cache/generated/client.js';
import { SourcePatientStore, type SourcePatientRow } from '../datasources/cache/source-patient-store.js';
import type { Patient } from '../datasources/fhir/fhir-types.js';
import { toSourcePatientRow } from '../identity/source-patient-row.js';

/**
 * Writes one `source_patient` row per patient of one source (inserted, or refreshed when
 * known), in one transaction. Patients without an id are skipped. Returns the rows written.
 */
export async function upsertSourcePatients(prisma: PrismaClient, sourceId: string, patients: readonly Patient[]): Promise<SourcePatientRow[]> {
  const rows = patients.filter((p) => p.id).map((p) => toSourcePatientRow(sourceId, p));
  await new SourcePatientStore(prisma).upsertMany(rows);
  return rows;
}
