import type { CodeableConcept, Coding, Coverage, Encounter, Medication, MedicationRequest, Observation, Quantity, Condition, Resource } from '@medplum/fhirtypes';
import { normalizeFactQuantity } from './fact-values.js';
import { containedMedication } from './medication-references.js';

/** One row of `clinical_fact` before it is written (no fetch time yet). */
export interface FactRow {
  resourceType: string;
  resourceId: string;
  system: string;
  code: string;
  value: number | null;
  unit: string | null;
  date: Date | null;
  status: string | null;
}

/** The system of the one `Coverage` row per payer that carries its display name (the PAYER breakdown key). */
export const PAYER_LABEL_SYSTEM = 'urn:chartgraph:payer';

/** Resource types whose facts cohorts read. */
export const FACT_TYPES = ['Condition', 'Observation', 'MedicationRequest', 'Encounter', 'Coverage'] as const;

/** What extraction needs besides the resource. */
export interface ExtractionContext {
  /** Medications that requests of this source reference (`Medication/<id>`), by id, as fetched by the sync. */
  medications?: ReadonlyMap<string, Medication>;
  /** Reads a request's referenced Medication id (see `referencedMedicationId`). */
  medicationId?: (request: MedicationRequest) => string | undefined;
}

// A fact a source has withdrawn must not put anyone into a cohort.
const WITHDRAWN = new Set(['entered-in-error', 'refuted']);

/**
 * The facts one FHIR resource contributes to cohorts: one row per coding of its code
 * (Condition, MedicationRequest), of its code and of each component (Observation, with the
 * numeric value normalised), its class (Encounter), or its payer (Coverage). Resources of
 * other types, without an id, or entered in error give none.
 */
export function extractFacts(resource: Resource, context: ExtractionContext = {}): FactRow[] {
  if (!resource.id) return [];
  switch (resource.resourceType) {
    case 'Condition':
      return conditionFacts(resource);
    case 'Observation':
      return observationFacts(resource);
    case 'MedicationRequest':
      return medicationFacts(resource, context);
    case 'Encounter':
      return encounterFacts(resource);
    case 'Coverage':
      return coverageFacts(resource);
    default:
      return [];
  }
}

function conditionFacts(c: Condition): FactRow[] {
  const verification = firstCode(c.verificationStatus);
  if (verification && WITHDRAWN.has(verification)) return [];
  const date = fhirDate(c.onsetDateTime ?? c.onsetPeriod?.start ?? c.recordedDate);
  return codingRows('Condition', c.id!, c.code, { date, status: firstCode(c.clinicalStatus) ?? null });
}

function observationFacts(o: Observation): FactRow[] {
  if (!o.status || WITHDRAWN.has(o.status) || o.status === 'cancelled') return [];
  const date = fhirDate(o.effectiveDateTime ?? o.effectivePeriod?.start ?? o.effectiveInstant ?? o.issued);
  const rows = codingRows('Observation', o.id!, o.code, { date, status: o.status, quantity: o.valueQuantity });
  for (const component of o.component ?? []) {
    rows.push(...codingRows('Observation', o.id!, component.code, { date, status: o.status, quantity: component.valueQuantity }));
  }
  return dedupe(rows);
}

/**
 * A request's drug codes: its `medicationCodeableConcept`, or the code of the Medication its
 * `medicationReference` names (contained, or fetched by the sync from the same source).
 */
function medicationFacts(m: MedicationRequest, context: ExtractionContext): FactRow[] {
  if (!m.status || WITHDRAWN.has(m.status)) return [];
  const referencedId = m.medicationCodeableConcept ? undefined : context.medicationId?.(m);
  const concept = m.medicationCodeableConcept ?? containedMedication(m)?.code ?? (referencedId !== undefined ? context.medications?.get(referencedId)?.code : undefined);
  return codingRows('MedicationRequest', m.id!, concept, { date: fhirDate(m.authoredOn), status: m.status });
}

function encounterFacts(e: Encounter): FactRow[] {
  if (e.status === 'entered-in-error' || e.status === 'cancelled') return [];
  const date = fhirDate(e.period?.start ?? e.period?.end);
  const klass = e.class;
  return [row('Encounter', e.id!, klass?.system ?? '', klass?.code ?? '', { date, status: e.status ?? null })];
}

function coverageFacts(c: Coverage): FactRow[] {
  if (c.status === 'entered-in-error' || c.status === 'cancelled' || c.status === 'draft') return [];
  const date = fhirDate(c.period?.start);
  const rows: FactRow[] = [];
  for (const payor of c.payor ?? []) {
    const label = payor.display?.trim() || payor.identifier?.value?.trim();
    if (label) rows.push(row('Coverage', c.id!, PAYER_LABEL_SYSTEM, label, { date, status: c.status ?? null }));
    if (payor.identifier?.value) rows.push(row('Coverage', c.id!, payor.identifier.system ?? '', payor.identifier.value, { date, status: c.status ?? null }));
  }
  return dedupe(rows);
}

interface RowExtras {
  date: Date | null;
  status: string | null;
  quantity?: Quantity;
}

function codingRows(resourceType: string, id: string, concept: CodeableConcept | undefined, extras: RowExtras): FactRow[] {
  const codings = (concept?.coding ?? []).filter((c): c is Coding & { code: string } => typeof c.code === 'string' && c.code.length > 0);
  return dedupe(codings.map((c) => row(resourceType, id, c.system ?? '', c.code, extras, c.system === 'http://loinc.org' ? c.code : undefined)));
}

function row(resourceType: string, resourceId: string, system: string, code: string, extras: RowExtras, loinc?: string): FactRow {
  const q = extras.quantity;
  const value = typeof q?.value === 'number' && Number.isFinite(q.value) ? normalizeFactQuantity({ code: loinc ?? code, value: q.value, unit: q.unit, ucumCode: q.system === 'http://unitsofmeasure.org' ? q.code : undefined }) : null;
  return { resourceType, resourceId, system, code, value: value?.value ?? null, unit: value?.unit ?? null, date: extras.date, status: extras.status };
}

function dedupe(rows: FactRow[]): FactRow[] {
  const seen = new Map<string, FactRow>();
  // The first occurrence wins: the resource's own code before a component of the same code.
  for (const r of rows) if (!seen.has(`${r.system}|${r.code}`)) seen.set(`${r.system}|${r.code}`, r);
  return [...seen.values()];
}

function firstCode(concept: CodeableConcept | undefined): string | undefined {
  return concept?.coding?.find((c) => c.code)?.code;
}

const FHIR_DATE = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?/;

/** A FHIR date or dateTime as an instant (partial dates at their first moment, UTC); null when unreadable. */
export function fhirDate(value: string | undefined): Date | null {
  if (!value) return null;
  if (value.length > 10) {
    const d = new Date(value);
    return Number.isNaN(d.getTime()) ? null : d;
  }
  const m = FHIR_DATE.exec(value);
  if (!m) return null;
  const d = new Date(Date.UTC(Number(m[1]), m[2] ? Number(m[2]) - 1 : 0, m[3] ? Number(m[3]) : 1));
  return Number.isNaN(d.getTime()) ? null : d;
}
