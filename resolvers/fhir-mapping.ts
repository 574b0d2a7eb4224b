import type * as fhir from '@medplum/fhirtypes';
import type {
  AllergyIntolerance,
  Condition,
  DiagnosticReport,
  Encounter,
  Immunization,
  MedicationRequest,
  Observation,
  ObservationComponent,
  Procedure,
} from '../schema/clinical.types.js';
import { normalizeQuantity, type NormalizedQuantity } from '../units/normalize-quantity.js';
import type { Address, CodeableConcept, ContactPoint, HumanName, Identifier, Period, Quantity } from '../schema/common.types.js';

// Pure FHIR R4 -> schema mapping. Items come out without `id` and `provenance`; the
// caller adds those, since they depend on which sources reported the item.

export type Unprovenanced<T> = Omit<T, 'id' | 'provenance'>;

export function mapConcept(c: fhir.CodeableConcept | undefined): CodeableConcept | null {
  if (!c) return null;
  return {
    text: c.text ?? null,
    coding: (c.coding ?? []).map((x) => ({ system: x.system ?? null, code: x.code ?? null, display: x.display ?? null })),
  };
}

export function mapConcepts(list: fhir.CodeableConcept[] | undefined): CodeableConcept[] {
  return (list ?? []).map((c) => mapConcept(c)!);
}

/** First code of a status CodeableConcept (clinicalStatus, verificationStatus). */
export function statusCode(c: fhir.CodeableConcept | undefined): string | null {
  return c?.coding?.[0]?.code ?? c?.text ?? null;
}

const UCUM = 'http://unitsofmeasure.org';
const LOINC = 'http://loinc.org';

/**
 * A FHIR Quantity as the source sent it, plus its value in the canonical UCUM unit of
 * `concept`'s LOINC code when one exists (`Quantity.code` is read as UCUM only when
 * `system` is UCUM or absent).
 */
export function mapQuantity(q: fhir.Quantity | undefined, concept?: fhir.CodeableConcept): Quantity | null {
  if (!q) return null;
  const normalized = normalizedQuantity(q, concept);
  return { value: q.value ?? null, unit: q.unit ?? null, system: q.system ?? null, code: q.code ?? null, normalized: normalized ?? null };
}

/** A mapped Quantity's `normalized`: the value in the canonical UCUM unit of `concept`'s LOINC code, when there is one. */
export function normalizedQuantity(q: fhir.Quantity, concept: fhir.CodeableConcept | undefined): NormalizedQuantity | undefined {
  if (typeof q.value !== 'number') return undefined;
  const loinc = concept?.coding?.find((c) => c.system === LOINC && c.code)?.code;
  if (!loinc) return undefined;
  return normalizeQuantity({
    code: loinc,
    value: q.value,
    ...(q.unit !== undefined && { unit: q.unit }),
    ...(q.code !== undefined && (q.system === undefined || q.system === UCUM) && { ucumCode: q.code }),
  });
}

export function mapPeriod(p: fhir.Period | undefined): Period | null {
  return p ? { start: p.start ?? null, end: p.end ?? null } : null;
}

export function mapIdentifier(i: fhir.Identifier): Identifier {
  return { system: i.system ?? null, value: i.value ?? null, type: mapConcept(i.type) };
}

export function mapHumanName(n: fhir.HumanName | undefined): HumanName | null {
  if (!n) return null;
  const given = n.given ?? [];
  const text = n.text ?? ([...(n.prefix ?? []), ...given, n.family].filter(Boolean).join(' ') || null);
  return { text, family: n.family ?? null, given, prefix: n.prefix ?? [], use: n.use ?? null };
}

export function mapAddress(a: fhir.Address): Address {
  return { line: a.line ?? [], city: a.city ?? null, state: a.state ?? null, postalCode: a.postalCode ?? null, country: a.country ?? null };
}

export function mapContactPoint(c: fhir.ContactPoint): ContactPoint {
  return { system: c.system ?? null, value: c.value ?? null, use: c.use ?? null };
}

// What a mapped item's date and identity fields hold, read straight from the source
// resource: the mapping below uses them, and so do `date` and `identity` in
// clinical-kinds.ts, which run on every fetched resource (the full mapping runs only for
// the items a page serves).
export const conditionOnset = (r: fhir.Condition) => r.onsetDateTime ?? r.onsetPeriod?.start ?? null;
export const conditionAbatement = (r: fhir.Condition) => r.abatementDateTime ?? r.abatementPeriod?.start ?? null;
export const observationEffective = (r: fhir.Observation) => r.effectiveDateTime ?? r.effectivePeriod?.start ?? r.effectiveInstant ?? null;
export const reportEffective = (r: fhir.DiagnosticReport) => r.effectiveDateTime ?? r.effectivePeriod?.start ?? null;
export const procedurePerformed = (r: fhir.Procedure): Period | null =>
  r.performedPeriod ? mapPeriod(r.performedPeriod) : r.performedDateTime ? { start: r.performedDateTime, end: r.performedDateTime } : null;

export function mapCondition(r: fhir.Condition): Unprovenanced<Condition> {
  return {
    code: mapConcept(r.code),
    clinicalStatus: statusCode(r.clinicalStatus),
    verificationStatus: statusCode(r.verificationStatus),
    category: mapConcepts(r.category),
    onset: conditionOnset(r),
    abatement: conditionAbatement(r),
    recordedDate: r.recordedDate ?? null,
  };
}

function mapComponent(c: fhir.ObservationComponent): ObservationComponent {
  return {
    code: mapConcept(c.code),
    valueQuantity: mapQuantity(c.valueQuantity, c.code),
    valueCodeableConcept: mapConcept(c.valueCodeableConcept),
    valueString: c.valueString ?? null,
  };
}

export function mapObservation(r: fhir.Observation): Unprovenanced<Observation> {
  return {
    status: r.status ?? null,
    code: mapConcept(r.code),
    category: mapConcepts(r.category),
    effective: observationEffective(r),
    issued: r.issued ?? null,
    valueQuantity: mapQuantity(r.valueQuantity, r.code),
    valueCodeableConcept: mapConcept(r.valueCodeableConcept),
    valueString: r.valueString ?? null,
    interpretation: mapConcepts(r.interpretation),
    components: (r.component ?? []).map(mapComponent),
  };
}

export function mapMedicationRequest(r: fhir.MedicationRequest): Unprovenanced<MedicationRequest> {
  const medication =
    mapConcept(r.medicationCodeableConcept) ??
    (r.medicationReference?.display ? { text: r.medicationReference.display, coding: [] } : null);
  return {
    status: r.status ?? null,
    intent: r.intent ?? null,
    medication,
    authoredOn: r.authoredOn ?? null,
    dosageInstructions: (r.dosageInstruction ?? []).map((d) => d.text).filter((t): t is string => !!t),
    reasonCode: mapConcepts(r.reasonCode),
  };
}

export function mapAllergy(r: fhir.AllergyIntolerance): Unprovenanced<AllergyIntolerance> {
  return {
    code: mapConcept(r.code),
    clinicalStatus: statusCode(r.clinicalStatus),
    verificationStatus: statusCode(r.verificationStatus),
    type: r.type ?? null,
    category: r.category ?? [],
    criticality: r.criticality ?? null,
    recordedDate: r.recordedDate ?? null,
    reactions: (r.reaction ?? []).flatMap((x) => mapConcepts(x.manifestation)),
  };
}

export function mapImmunization(r: fhir.Immunization): Unprovenanced<Immunization> {
  return {
    status: r.status ?? null,
    vaccineCode: mapConcept(r.vaccineCode),
    occurrence: r.occurrenceDateTime ?? null,
    primarySource: r.primarySource ?? null,
  };
}

export function mapProcedure(r: fhir.Procedure): Unprovenanced<Procedure> {
  return {
    status: r.status ?? null,
    code: mapConcept(r.code),
    performed: procedurePerformed(r),
    reasonCode: mapConcepts(r.reasonCode),
  };
}

export function mapEncounter(r: fhir.Encounter): Unprovenanced<Encounter> {
  return {
    status: r.status ?? null,
    class: r.class?.code ?? null,
    type: mapConcepts(r.type),
    period: mapPeriod(r.period),
    reasonCode: mapConcepts(r.reasonCode),
    serviceProvider: r.serviceProvider?.display ?? null,
  };
}

export function mapDiagnosticReport(r: fhir.DiagnosticReport): Unprovenanced<DiagnosticReport> {
  return {
    status: r.status ?? null,
    code: mapConcept(r.code),
    category: mapConcepts(r.category),
    effective: reportEffective(r),
    issued: r.issued ?? null,
    resultCount: r.result?.length ?? 0,
    conclusion: r.conclusion ?? null,
  };
}
