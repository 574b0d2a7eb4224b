import type { Patient as FhirPatient } from '@medplum/fhirtypes';
import type { LinkedRecord, UnifiedPatient } from '../identity/patient-directory.js';
import type { Gender, SourceRef } from '../schema/common.types.js';
import type { Patient } from '../schema/patient.type.js';
import { mapAddress, mapContactPoint, mapHumanName, mapIdentifier } from './fhir-mapping.js';

/** The demographic fields of a Patient, worked out from its source Patient resources. */
export type PatientDetails = Omit<Patient, 'id' | 'mergedFrom'>;

type Resolved<T> = { [K in keyof T]: T[K] | Promise<T[K]> };

/**
 * A Patient as resolvers hand it on: its id and linked records at once (all that clinical
 * lists need), and its demographics as `details`, loaded from the sources only when a
 * demographic field is asked for. Clinical lists therefore never wait on Patient reads,
 * and a dashboard that asks for none makes none. The demographic fields are promises that
 * GraphQL awaits.
 */
export type PatientView = Resolved<PatientDetails> & {
  id: string;
  mergedFrom: string[];
  records: readonly LinkedRecord[];
  readonly details: Promise<PatientDetails>;
};

/** A view over a known patient whose demographics come from `load` the first time they are read. */
export function lazyPatientView(patient: UnifiedPatient, load: () => Promise<UnifiedPatient>, sourceRef: (id: string) => SourceRef): PatientView {
  let details: Promise<PatientDetails> | undefined;
  const get = () => (details ??= load().then((full) => patientDetails(full, sourceRef)));
  const pick = <K extends keyof PatientDetails>(k: K) => get().then((d) => d[k]);
  return {
    id: patient.id,
    mergedFrom: patient.mergedFrom ?? [],
    records: patient.records,
    get details() {
      return get();
    },
    get name() {
      return pick('name');
    },
    get birthDate() {
      return pick('birthDate');
    },
    get gender() {
      return pick('gender');
    },
    get identifiers() {
      return pick('identifiers');
    },
    get addresses() {
      return pick('addresses');
    },
    get telecom() {
      return pick('telecom');
    },
    get sourceRecords() {
      return pick('sourceRecords');
    },
  };
}

/** A view over a patient whose source records are already loaded. */
export function buildPatientView(patient: UnifiedPatient, sourceRef: (id: string) => SourceRef): PatientView {
  const details = patientDetails(patient, sourceRef);
  return { ...details, id: patient.id, mergedFrom: patient.mergedFrom ?? [], records: patient.records, details: Promise.resolve(details) };
}

const GENDERS = new Set(['male', 'female', 'other', 'unknown']);

/**
 * Demographics rule: the most recently updated source record wins (`meta.lastUpdated`,
 * records without it last, then config order); within it the `official` name, else its
 * first name. A field the winner lacks comes from the next record that has it.
 * Identifiers are the union of all records', without repeats.
 */
function patientDetails(patient: UnifiedPatient, sourceRef: (id: string) => SourceRef): PatientDetails {
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
  };
}
