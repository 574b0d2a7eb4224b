import type { Patient as FhirPatient } from '@medplum/fhirtypes';
import type { LinkedRecord, UnifiedPatient } from '../identity/patient-directory.js';
import type { Gender, SourceRef } from '../schema/common.types.js';
import type { Patient } from '../schema/patient.type.js';
import { mapAddress, mapContactPoint, mapHumanName, mapIdentifier } from './fhir-mapping.js';

/** A Patient as resolvers hand it on: the schema fields plus the linked records behind them. */
export type PatientView = Patient & { records: readonly LinkedRecord[] };

const GENDERS = new Set(['male', 'female', 'other', 'unknown']);

/**
 * Demographics rule: the most recently updated source record wins (`meta.lastUpdated`,
 * records without it last, then config order); within it the `official` name, else its
 * first name. A field the winner lacks comes from the next record that has it.
 * Identifiers are the union of all records', without repeats.
 */
export function buildPatientView(patient: UnifiedPatient, sourceRef: (id: string) => SourceRef): PatientView {
  const withResource = patient.records.filter((r): r is LinkedRecord & { resource: FhirPatient } => r.resource !== null);
  const ranked = [...withResource].sort((a, b) => {
    const la = a.resource.meta?.lastUpdated ?? '';
    const lb = b.resource.meta?.lastUpdated ?? '';
    return la === lb ? 0 : la < lb ? 1 : -1;
  });
  const first = <V>(pick: (r: FhirPatient) => V | undefined): V | undefined => {
    for (const r of ranked) {
      const v = pick(r.resource);
      if (v !== undefined && !(Array.isArray(v) && v.length === 0)) return v;
    }
    return undefined;
  };

  const name = first((r) => r.name?.find((n) => n.use === 'official') ?? r.name?.[0]);
  const gender = first((r) => r.gender);
  const identifiers = new Map<string, ReturnType<typeof mapIdentifier>>();
  for (const r of withResource) {
    for (const id of r.resource.identifier ?? []) {
      const key = `${id.system ?? ''}|${id.value ?? ''}`;
      if (!identifiers.has(key)) identifiers.set(key, mapIdentifier(id));
    }
  }

  return {
    id: patient.id,
    name: mapHumanName(name),
    birthDate: first((r) => r.birthDate) ?? null,
    gender: gender && GENDERS.has(gender) ? (gender as Gender) : null,
    identifiers: [...identifiers.values()],
    addresses: (first((r) => r.address) ?? []).map(mapAddress),
    telecom: (first((r) => r.telecom) ?? []).map(mapContactPoint),
    sourceRecords: patient.records.map((r) => ({
      source: sourceRef(r.sourceId),
      sourcePatientId: r.sourcePatientId,
      matchMethod: r.matchMethod,
      matchScore: r.matchScore,
      lastUpdated: r.resource?.meta?.lastUpdated ?? null,
    })),
    records: patient.records,
  };
}
