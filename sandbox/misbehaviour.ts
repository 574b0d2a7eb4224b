import ucum from '@lhncbc/ucum-lhc';
import type { FhirResource } from '../datasources/fhir/fhir-types.js';
import { CANONICAL_UNITS } from '../units/canonical-units.js';

/**
 * How a simulated EHR misbehaves the way buggy or misconfigured FHIR servers do. Each
 * fault touches the first page of every search (item faults) or the last page (paging
 * faults), so what a correct client should keep is exactly the server's real data.
 */
export interface Misbehaviour {
  /** Adds two items of the searched type that belong to no asked patient: `Patient/zz-other`, and the asked id on another server. */
  wrongPatient?: boolean;
  /** Adds an item of another resource type (a Condition, or an Observation in a Condition search) of the first asked patient. */
  wrongType?: boolean;
  /** Adds an item of the first asked patient that lacks what FHIR requires (an Observation without `code`) or has a bad date. */
  malformed?: boolean;
  /** Adds an OperationOutcome entry (`search.mode` `outcome`, severity warning, code `incomplete`). */
  warnings?: boolean;
  /** For these resource types, the last page links `next` to another host. */
  offOriginNext?: string[];
  /** For these resource types, the last page links `next` back to itself. */
  loopingNext?: string[];
  /** `GET Patient/[id]` answers another patient's record (another id). */
  readOtherId?: boolean;
  /** LOINC code -> UCUM unit this EHR reports those values in (converted with the UCUM library). */
  unitVariants?: Record<string, string>;
}

/** The `misbehaving` profile: every item and paging fault at once (reads stay correct). */
export const MISBEHAVING: Readonly<Misbehaviour> = {
  wrongPatient: true,
  wrongType: true,
  malformed: true,
  warnings: true,
  offOriginNext: ['Encounter'],
  loopingNext: ['Procedure'],
};

/** The patient a wrong-patient item points at; no sandbox patient has this id. */
export const FOREIGN_PATIENT_ID = 'zz-other';

const PATIENT_ELEMENT: Record<string, string> = { AllergyIntolerance: 'patient', Immunization: 'patient', Coverage: 'beneficiary' };
const CODE = { coding: [{ system: 'http://snomed.info/sct', code: '38341003', display: 'Hypertension' }] };

/** A well-formed item of a type, for a patient reference: what the faults add. */
function syntheticItem(type: string, id: string, patientRef: string): FhirResource {
  const base: Record<string, unknown> = { resourceType: type, id, [PATIENT_ELEMENT[type] ?? 'subject']: { reference: patientRef } };
  const byType: Record<string, Record<string, unknown>> = {
    Observation: { status: 'final', code: CODE, effectiveDateTime: '2020-01-01T00:00:00Z', valueString: 'synthetic' },
    Condition: { code: CODE, onsetDateTime: '2020-01-01' },
    MedicationRequest: { status: 'active', intent: 'order', medicationCodeableConcept: CODE, authoredOn: '2020-01-01' },
    AllergyIntolerance: { code: CODE, recordedDate: '2020-01-01' },
    Immunization: { status: 'completed', vaccineCode: CODE, occurrenceDateTime: '2020-01-01' },
    Procedure: { status: 'completed', code: CODE, performedDateTime: '2020-01-01' },
    Encounter: { status: 'finished', class: { code: 'AMB' }, period: { start: '2020-01-01' } },
    DiagnosticReport: { status: 'final', code: CODE, effectiveDateTime: '2020-01-01' },
    Coverage: { status: 'active', payor: [{ display: 'Synthetic Payer' }], period: { start: '2020-01-01' } },
  };
  return { ...base, ...byType[type] } as unknown as FhirResource;
}

/** The same item made malformed: required `code` gone (Observation), else a date no calendar has. */
function malformedItem(type: string, id: string, patientRef: string): FhirResource {
  const item = syntheticItem(type, id, patientRef) as unknown as Record<string, unknown>;
  if (type === 'Observation') delete item.code;
  else {
    const dateField = Object.keys(item).find((k) => /DateTime$|Date$|^authoredOn$|^period$/.test(k));
    if (dateField === 'period') item.period = { start: 'soon' };
    else if (dateField) item[dateField] = '2020-13-45';
  }
  return item as unknown as FhirResource;
}

/** One search page as the server would send it, before the faults. */
export interface PageParts {
  type: string;
  /** Source ids of the patients the search asked for (may be empty). */
  asked: string[];
  entries: string[];
  links: Array<{ relation: string; url: string }>;
  first: boolean;
  last: boolean;
  /** This page's own URL as requested. */
  requestUrl: string;
  baseUrl: string;
}

/** Applies the misbehaviour to one page (entries are JSON text, as the server builds them). */
export function misbehavePage(m: Misbehaviour, page: PageParts): void {
  const entry = (r: FhirResource, mode = 'match') =>
    JSON.stringify({ fullUrl: `${page.baseUrl}/${r.resourceType}/${r.id}`, resource: r, search: { mode } });
  const target = page.asked[0];
  if (page.first) {
    if (m.wrongPatient) {
      page.entries.push(entry(syntheticItem(page.type, 'zz-wrong-patient', `Patient/${FOREIGN_PATIENT_ID}`)));
      // Same id, another server: another person.
      page.entries.push(entry(syntheticItem(page.type, 'zz-other-server', `https://other-ehr.example/fhir/R4/Patient/${target ?? 'x'}`)));
    }
    if (m.wrongType && target) {
      const other = page.type === 'Condition' ? 'Observation' : 'Condition';
      page.entries.push(entry(syntheticItem(other, 'zz-wrong-type', `Patient/${target}`)));
    }
    if (m.malformed && target) page.entries.push(entry(malformedItem(page.type, 'zz-malformed', `Patient/${target}`)));
    if (m.warnings) {
      const outcome = { resourceType: 'OperationOutcome', id: 'zz-warning', issue: [{ severity: 'warning', code: 'incomplete', diagnostics: 'Results truncated' }] };
      page.entries.push(JSON.stringify({ resource: outcome, search: { mode: 'outcome' } }));
    }
  }
  if (page.last) {
    if (m.offOriginNext?.includes(page.type)) page.links.push({ relation: 'next', url: `https://elsewhere.example/fhir/R4/${page.type}?page=2` });
    else if (m.loopingNext?.includes(page.type)) page.links.push({ relation: 'next', url: page.requestUrl });
  }
}

/** For `readOtherId`: the record the read answers instead (another id). */
export function otherPatientRecord(asked: FhirResource): FhirResource {
  return { ...asked, id: `${asked.id}-other` } as FhirResource;
}

const ucumUtils = ucum.UcumLhcUtils.getInstance();

/**
 * A resource with its quantities reported in the EHR's own units (`unitVariants`),
 * converted by the UCUM library with the code's molecular weight; the same resource when
 * nothing applies. Eight significant digits, so the value converts back exactly enough.
 */
export function withUnitVariants(resource: FhirResource, variants: Readonly<Record<string, string>>): FhirResource {
  if (resource.resourceType !== 'Observation') return resource;
  const obs = resource as unknown as { code?: { coding?: Array<{ code?: string }> }; valueQuantity?: { value?: number; unit?: string; code?: string; system?: string } };
  const code = obs.code?.coding?.map((c) => c.code).find((c) => c !== undefined && variants[c] !== undefined);
  const q = obs.valueQuantity;
  if (!code || !q || typeof q.value !== 'number' || !q.code) return resource;
  const to = variants[code]!;
  const result = ucumUtils.convertUnitTo(q.code, q.value, to, { molecularWeight: CANONICAL_UNITS[code]?.molecularWeight ?? null });
  if (result.status !== 'succeeded' || result.toVal === null) return resource;
  return { ...resource, valueQuantity: { ...q, value: Number(result.toVal.toPrecision(8)), unit: to, code: to, system: 'http://unitsofmeasure.org' } } as unknown as FhirResource;
}
