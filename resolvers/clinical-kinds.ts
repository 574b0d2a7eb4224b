import type * as fhir from '@medplum/fhirtypes';
import type { CodeableConcept } from '../schema/common.types.js';
import * as map from './fhir-mapping.js';
import type { Unprovenanced } from './fhir-mapping.js';

/**
 * What chartgraph knows about each clinical resource type: how to map it, which of its
 * fields the filters and the ordering read, which FHIR search parameters carry the filters,
 * and what makes two reports of it "the same item" (for cross-source de-duplication).
 */
export interface ClinicalKind<T extends object> {
  resourceType: string;
  map(resource: fhir.Resource): Unprovenanced<T>;
  /** The item's clinically relevant date (for `since` and for newest-first order). */
  date(item: Unprovenanced<T>): string | null | undefined;
  /** Codes that `code` filters match. */
  codes(item: Unprovenanced<T>): (CodeableConcept | null | undefined)[];
  categories?(item: Unprovenanced<T>): CodeableConcept[];
  status?(item: Unprovenanced<T>): string | null | undefined;
  /** FHIR search parameter names for each filter this type supports. */
  params: { code?: string; category?: string; clinicalStatus?: string; status?: string; since?: string };
  /** Parts that, all equal, make two items one: same code, same date, same value. */
  identity(item: Unprovenanced<T>): unknown[];
}

function kind<T extends object>(k: ClinicalKind<T>): ClinicalKind<T> {
  return k;
}

/** Codes of a concept as a sorted list of `system|code`, so coding order does not matter. */
export function codeKey(c: CodeableConcept | null | undefined): string {
  return (c?.coding ?? [])
    .map((x) => `${x.system ?? ''}|${x.code ?? ''}`)
    .sort()
    .join(',');
}

/** Day precision is what two EHRs reliably agree on for the same event. */
const day = (d: string | null | undefined) => d?.slice(0, 10) ?? null;

export const KINDS = {
  Condition: kind({
    resourceType: 'Condition',
    map: (r) => map.mapCondition(r as fhir.Condition),
    date: (i) => i.onset ?? i.recordedDate,
    codes: (i) => [i.code],
    categories: (i) => i.category,
    status: (i) => i.clinicalStatus,
    params: { code: 'code', category: 'category', clinicalStatus: 'clinical-status' },
    identity: (i) => [codeKey(i.code), day(i.onset), day(i.abatement)],
  }),
  Observation: kind({
    resourceType: 'Observation',
    map: (r) => map.mapObservation(r as fhir.Observation),
    date: (i) => i.effective ?? i.issued,
    codes: (i) => [i.code],
    categories: (i) => i.category,
    params: { code: 'code', category: 'category', since: 'date' },
    identity: (i) => [
      codeKey(i.code),
      i.effective,
      // The same result reported in two units by two sources is one item: compare normalised values where there are.
      i.valueQuantity?.normalized?.value ?? i.valueQuantity?.value,
      i.valueQuantity?.normalized?.unit ?? i.valueQuantity?.code ?? i.valueQuantity?.unit,
      codeKey(i.valueCodeableConcept),
      i.valueString,
      i.components.map((c) => [codeKey(c.code), c.valueQuantity?.normalized?.value ?? c.valueQuantity?.value, codeKey(c.valueCodeableConcept)]),
    ],
  }),
  MedicationRequest: kind({
    resourceType: 'MedicationRequest',
    map: (r) => map.mapMedicationRequest(r as fhir.MedicationRequest),
    date: (i) => i.authoredOn,
    codes: (i) => [i.medication],
    status: (i) => i.status,
    params: { code: 'code', status: 'status', since: 'authoredon' },
    identity: (i) => [codeKey(i.medication), i.authoredOn, i.status],
  }),
  AllergyIntolerance: kind({
    resourceType: 'AllergyIntolerance',
    map: (r) => map.mapAllergy(r as fhir.AllergyIntolerance),
    date: (i) => i.recordedDate,
    codes: (i) => [i.code],
    status: (i) => i.clinicalStatus,
    params: { code: 'code', clinicalStatus: 'clinical-status' },
    identity: (i) => [codeKey(i.code), i.clinicalStatus, day(i.recordedDate)],
  }),
  Immunization: kind({
    resourceType: 'Immunization',
    map: (r) => map.mapImmunization(r as fhir.Immunization),
    date: (i) => i.occurrence,
    codes: (i) => [i.vaccineCode],
    params: { since: 'date' },
    identity: (i) => [codeKey(i.vaccineCode), day(i.occurrence)],
  }),
  Procedure: kind({
    resourceType: 'Procedure',
    map: (r) => map.mapProcedure(r as fhir.Procedure),
    date: (i) => i.performed?.start,
    codes: (i) => [i.code],
    params: { code: 'code', since: 'date' },
    identity: (i) => [codeKey(i.code), i.performed?.start],
  }),
  Encounter: kind({
    resourceType: 'Encounter',
    map: (r) => map.mapEncounter(r as fhir.Encounter),
    date: (i) => i.period?.start,
    codes: (i) => i.type,
    params: { since: 'date' },
    identity: (i) => [i.class, i.type.map(codeKey).sort(), i.period?.start],
  }),
  DiagnosticReport: kind({
    resourceType: 'DiagnosticReport',
    map: (r) => map.mapDiagnosticReport(r as fhir.DiagnosticReport),
    date: (i) => i.effective ?? i.issued,
    codes: (i) => [i.code],
    categories: (i) => i.category,
    params: { code: 'code', category: 'category', since: 'date' },
    identity: (i) => [codeKey(i.code), i.effective],
  }),
};
