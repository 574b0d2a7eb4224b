import type { PrismaClient } from '../datasources/cache/generated/client.js';
import { SourcePatientStore, type SourcePatientRow } from '../datasources/cache/source-patient-store.js';
import type { Patient } from '../datasources/fhir/fhir-types.js';
import { toMatchRecord } from '../identity/match-record.js';

/**
 * The `source_patient` row of one FHIR Patient (its `id` must be set). The folding is
 * identity's (`identity/normalize.ts` through `toMatchRecord`), so that the index and the
 * matcher always agree on what a name or a phone number is.
 */
export function toSourcePatientRow(sourceId: string, patient: Patient): SourcePatientRow {
  if (!patient.id) throw new TypeError('a Patient without an id cannot be indexed');
  const m = toMatchRecord(patient);
  const lastUpdated = patient.meta?.lastUpdated ? new Date(patient.meta.lastUpdated) : null;
  return {
    sourceId,
    sourcePatientId: patient.id,
    familyKey: m.family,
    givenKeys: m.given,
    birthDate: m.birthDate,
    gender: m.gender,
    postalCode: m.postalCode,
    phone: m.phone,
    identifiers: [...new Set(m.identifiers.map((i) => `${i.system}|${i.value}`))],
    lastUpdated: lastUpdated && !Number.isNaN(lastUpdated.getTime()) ? lastUpdated : null,
  };
}

/**
 * Writes one `source_patient` row per patient of one source (inserted, or refreshed when
 * known), in one transaction. Patients without an id are skipped. Returns the rows written.
 */
export async function upsertSourcePatients(prisma: PrismaClient, sourceId: string, patients: readonly Patient[]): Promise<SourcePatientRow[]> {
  const rows = patients.filter((p) => p.id).map((p) => toSourcePatientRow(sourceId, p));
  await new SourcePatientStore(prisma).upsertMany(rows);
  return rows;
}
