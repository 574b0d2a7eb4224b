import type * as fhir from '@medplum/fhirtypes';
import type { CodeableConcept } from '../schema/common.types.js';
import * as map from './fhir-mapping.js';
import type { Unprovenanced } from './fhir-mapping.js';

/**
 * What chartgraph knows about each clinical resource type: how to map it, which of its
 * fields the filters and the ordering read, which FHIR search parameters carry the filters,
 * and what makes two reports of it "the same item" (for cross-source de-duplication).
 *
 * `date` and `identity` read the source resource, not the mapped item: they run on every
 * resource fetched (ordering, `since`, de-duplication), while the mapping runs only for the
 * items a page serves or a code filter reads. Each reads exactly what the mapped item's
 * fields hold (the same helpers of fhir-mapping.ts; test/unit/clinical-kinds.test.ts
 * checks them against the mapped items).
 */
export interface ClinicalKind<T extends object> {
  resourceType: string;
  map(resource: fhir.Resource): Unprovenanced<T>;
  /** The resource's clinically relevant date (for `since` and for newest-first order): the mapped item's date field. */
  date(resource: fhir.Resource): string | null | undefined;
  /** Codes that `code` filters match. */
  codes(item: Unprovenanced<T>): (CodeableConcept | null | undefined)[];
  categories?(item: Unprovenanced<T>): CodeableConcept[];
  status?(item: Unprovenanced<T>): string | null | undefined;
  /** FHIR search parameter names for each filter this type supports. */
  params: { code?: string; category?: string; clinicalStatus?: string; status?: string; since?: string };
  /** Parts that, all equal, make two items one: same code, same date, same value (as the mapped item holds them). */
  identity(resource: fhir.Resource): unknown[];
}

function kind<T extends object>(k: ClinicalKind<T>): ClinicalKind<T> {
  return k;
}

/** What {@link codeKey} reads: a mapped CodeableConcept, or the source's own (the same codes either way). */
type Coded = { coding?: readonly { system?: string | null; code?: string | null }[] | null } | null | undefined;

/** Codes of a concept as a sorted list of `system|code`, so coding order does not matter. */
export function codeKey(c: Coded): string {
  const coding = c?.coding ?? [];
  if (coding.length === 1) return `${coding[0]!.system ?? ''}|${coding[0]!.code ?? ''}`;
  return coding
    .map((x) => `${x.system ?? ''}|${x.code ?? ''}`)
    .sort()
    .join(',');
}

/** Day precision is what two EHRs reliably agree on for the same event. */
const day = (d: string | null | undefined) => d?.slice(0, 10) ?? null;

/** What a mapped Quantity's identity parts hold: its normalised value, else the value as sent (undefined for no Quantity). */
function quantityValue(q: fhir.Quantity | undefined, concept: fhir.CodeableConcept | undefined): unknown {
  return q && (map.normalizedQuantity(q, concept)?.value ?? q.value ?? null);
}

/** Its normalised unit, else the UCUM code or unit as sent. */
function quantityUnit(q: fhir.Quantity | undefined, concept: fhir.CodeableConcept | undefined, normalized = q && map.normalizedQuantity(q, concept)): unknown {
  return q && (normalized?.unit ?? q.code ?? q.unit ?? null);
}

export const KINDS = {
  Condition: kind({
    resourceType: 'Condition',
    map: (r) => map.mapCondition(r as fhir.Condition),
    date: (r) => map.conditionOnset(r as fhir.Condition) ?? (r as fhir.Condition).recordedDate ?? null,
    codes: (i) => [i.code],
    categories: (i) => i.category,
    status: (i) => i.clinicalStatus,
    params: { code: 'code', category: 'category', clinicalStatus: 'clinical-status' },
    identity: (r) => {
      const c = r as fhir.Condition;
      return [codeKey(c.code), day(map.conditionOnset(c)), day(map.conditionAbatement(c))];
    },
  }),
  Observation: kind({
    resourceType: 'Observation',
    map: (r) => map.mapObservation(r as fhir.Observation),
    date: (r) => map.observationEffective(r as fhir.Observation) ?? (r as fhir.Observation).issued ?? null,
    codes: (i) => [i.code],
    categories: (i) => i.category,
    params: { code: 'code', category: 'category', since: 'date' },
    identity: (r) => {
      const o = r as fhir.Observation;
      const q = o.valueQuantity;
      const normalized = q && map.normalizedQuantity(q, o.code);
      return [
        codeKey(o.code),
        map.observationEffective(o),
        // The same result reported in two units by two sources is one item: compare normalised values where there are.
        q && (normalized?.value ?? q.value ?? null),
        quantityUnit(q, o.code, normalized),
        codeKey(o.valueCodeableConcept),
        o.valueString ?? null,
        (o.component ?? []).map((c) => [codeKey(c.code), quantityValue(c.valueQuantity, c.code), codeKey(c.valueCodeableConcept)]),
      ];
    },
  }),
  MedicationRequest: kind({
    resourceType: 'MedicationRequest',
    map: (r) => map.mapMedicationRequest(r as fhir.MedicationRequest),
    date: (r) => (r as fhir.MedicationRequest).authoredOn ?? null,
    codes: (i) => [i.medication],
    status: (i) => i.status,
    params: { code: 'code', status: 'status', since: 'authoredon' },
    // A medication named only by a reference's display has no codes: its key is '' as for none.
    identity: (r) => {
      const m = r as fhir.MedicationRequest;
      return [codeKey(m.medicationCodeableConcept), m.authoredOn ?? null, m.status ?? null];
    },
  }),
  AllergyIntolerance: kind({
    resourceType: 'AllergyIntolerance',
    map: (r) => map.mapAllergy(r as fhir.AllergyIntolerance),
    date: (r) => (r as fhir.AllergyIntolerance).recordedDate ?? null,
    codes: (i) => [i.code],
    status: (i) => i.clinicalStatus,
    params: { code: 'code', clinicalStatus: 'clinical-status' },
    identity: (r) => {
      const a = r as fhir.AllergyIntolerance;
      return [codeKey(a.code), map.statusCode(a.clinicalStatus), day(a.recordedDate)];
    },
  }),
  Immunization: kind({
    resourceType: 'Immunization',
    map: (r) => map.mapImmunization(r as fhir.Immunization),
    date: (r) => (r as fhir.Immunization).occurrenceDateTime ?? null,
    codes: (i) => [i.vaccineCode],
    params: { since: 'date' },
    identity: (r) => [codeKey((r as fhir.Immunization).vaccineCode), day((r as fhir.Immunization).occurrenceDateTime)],
  }),
  Procedure: kind({
    resourceType: 'Procedure',
    map: (r) => map.mapProcedure(r as fhir.Procedure),
    date: (r) => map.procedurePerformed(r as fhir.Procedure)?.start,
    codes: (i) => [i.code],
    params: { code: 'code', since: 'date' },
    identity: (r) => [codeKey((r as fhir.Procedure).code), map.procedurePerformed(r as fhir.Procedure)?.start],
  }),
  Encounter: kind({
    resourceType: 'Encounter',
    map: (r) => map.mapEncounter(r as fhir.Encounter),
    date: (r) => map.mapPeriod((r as fhir.Encounter).period)?.start,
    codes: (i) => i.type,
    params: { since: 'date' },
    identity: (r) => {
      const e = r as fhir.Encounter;
      return [e.class?.code ?? null, (e.type ?? []).map(codeKey).sort(), map.mapPeriod(e.period)?.start];
    },
  }),
  DiagnosticReport: kind({
    resourceType: 'DiagnosticReport',
    map: (r) => map.mapDiagnosticReport(r as fhir.DiagnosticReport),
    date: (r) => map.reportEffective(r as fhir.DiagnosticReport) ?? (r as fhir.DiagnosticReport).issued ?? null,
    codes: (i) => [i.code],
    categories: (i) => i.category,
    params: { code: 'code', category: 'category', since: 'date' },
    identity: (r) => [codeKey((r as fhir.DiagnosticReport).code), map.reportEffective(r as fhir.DiagnosticReport)],
  }),
};
