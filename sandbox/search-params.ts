import { dateRange, type TimeRange } from './search-values.js';

/** FHIR search parameter types the sandbox implements. */
export type SearchParamType = 'token' | 'reference' | 'date' | 'string';

/** A target token: a coding, an identifier or a plain code (implicit system). */
export interface TokenTarget {
  system?: string;
  code?: string;
  /** Plain `code` elements: the system is implied by the element, any query system matches. */
  implicit?: boolean;
}

/** One search parameter of one resource type, with how to read its values from a resource. */
export interface SearchParamDef {
  name: string;
  type: SearchParamType;
  /** FHIRPath-like expression, advertised in the CapabilityStatement's documentation. */
  expression: string;
  tokens?: (r: Any) => TokenTarget[];
  refs?: (r: Any) => string[];
  dates?: (r: Any) => TimeRange[];
  strings?: (r: Any) => string[];
  /** For the patient compartment index: this reference parameter points at the patient. */
  patientRef?: boolean;
}

// Resources are read generically; the definitions below know each path.
type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any

function codings(cc: Any): TokenTarget[] {
  if (!cc) return [];
  const list = Array.isArray(cc) ? cc : [cc];
  const out: TokenTarget[] = [];
  for (const c of list) for (const cd of c?.coding ?? []) out.push({ system: cd.system, code: cd.code });
  return out;
}

function plainCodes(v: Any): TokenTarget[] {
  if (v === undefined || v === null) return [];
  return (Array.isArray(v) ? v : [v]).map((code: string) => ({ code: String(code), implicit: true }));
}

function identifiers(r: Any): TokenTarget[] {
  return (r.identifier ?? []).map((i: Any) => ({ system: i.system, code: i.value }));
}

function ref(v: Any): string[] {
  if (!v) return [];
  return (Array.isArray(v) ? v : [v]).map((x: Any) => x?.reference).filter((x: unknown): x is string => typeof x === 'string');
}

function point(v: unknown): TimeRange[] {
  if (typeof v !== 'string') return [];
  const r = dateRange(v);
  return r ? [r] : [];
}

function period(p: Any): TimeRange[] {
  if (!p || (!p.start && !p.end)) return [];
  // An open end means "ongoing": the range runs to infinity (FHIR R4 Period semantics).
  const lo = p.start ? dateRange(p.start)?.lo : -Infinity;
  const hi = p.end ? dateRange(p.end)?.hi : Infinity;
  if (lo === undefined || hi === undefined) return [];
  return [{ lo, hi }];
}

/** dateTime | Period | instant choice types, e.g. `effective[x]`. */
function choiceDate(r: Any, base: string): TimeRange[] {
  return [...point(r[`${base}DateTime`]), ...point(r[`${base}Instant`]), ...period(r[`${base}Period`])];
}

const tok = (name: string, expression: string, tokens: (r: Any) => TokenTarget[]): SearchParamDef => ({ name, type: 'token', expression, tokens });
const date = (name: string, expression: string, dates: (r: Any) => TimeRange[]): SearchParamDef => ({ name, type: 'date', expression, dates });
const reference = (name: string, expression: string, refs: (r: Any) => string[], patientRef = false): SearchParamDef => ({
  name,
  type: 'reference',
  expression,
  refs,
  ...(patientRef && { patientRef }),
});
const str = (name: string, expression: string, strings: (r: Any) => string[]): SearchParamDef => ({ name, type: 'string', expression, strings });

const lastUpdated = date('_lastUpdated', 'Resource.meta.lastUpdated', (r) => point(r.meta?.lastUpdated));
const identifier = tok('identifier', 'identifier', identifiers);
const status = tok('status', 'status', (r) => plainCodes(r.status));
const subjectPatient = [
  reference('patient', 'subject.where(resolve() is Patient)', (r) => ref(r.subject).filter((x) => x.startsWith('Patient/')), true),
  reference('subject', 'subject', (r) => ref(r.subject), true),
];
const encounter = reference('encounter', 'encounter', (r) => ref(r.encounter));

function names(r: Any): Any[] {
  return r.name ?? [];
}

/** Search parameters per resource type (beyond `_id`, which every type has). */
export const SEARCH_PARAMS: Readonly<Record<string, readonly SearchParamDef[]>> = {
  Patient: [
    lastUpdated,
    identifier,
    str('family', 'Patient.name.family', (r) => names(r).map((n: Any) => n.family).filter(Boolean)),
    str('given', 'Patient.name.given', (r) => names(r).flatMap((n: Any) => n.given ?? [])),
    str('name', 'Patient.name', (r) =>
      names(r).flatMap((n: Any) => [n.text, n.family, ...(n.given ?? []), ...(n.prefix ?? []), ...(n.suffix ?? [])].filter(Boolean)),
    ),
    date('birthdate', 'Patient.birthDate', (r) => point(r.birthDate)),
    tok('gender', 'Patient.gender', (r) => plainCodes(r.gender)),
    str('address-city', 'Patient.address.city', (r) => (r.address ?? []).map((a: Any) => a.city).filter(Boolean)),
    str('address-postalcode', 'Patient.address.postalCode', (r) => (r.address ?? []).map((a: Any) => a.postalCode).filter(Boolean)),
    tok('phone', "Patient.telecom.where(system='phone')", (r) =>
      (r.telecom ?? []).filter((t: Any) => t.system === 'phone').map((t: Any) => ({ code: t.value, implicit: true })),
    ),
  ],
  Observation: [
    lastUpdated,
    identifier,
    status,
    ...subjectPatient,
    encounter,
    tok('code', 'Observation.code', (r) => codings(r.code)),
    tok('category', 'Observation.category', (r) => codings(r.category)),
    date('date', 'Observation.effective', (r) => choiceDate(r, 'effective')),
  ],
  Condition: [
    lastUpdated,
    identifier,
    ...subjectPatient,
    encounter,
    tok('code', 'Condition.code', (r) => codings(r.code)),
    tok('category', 'Condition.category', (r) => codings(r.category)),
    tok('clinical-status', 'Condition.clinicalStatus', (r) => codings(r.clinicalStatus)),
    // R4 has no `date` on Condition; chartgraph's gateway asks for one, so onset (or recorded).
    date('date', 'Condition.onset | Condition.recordedDate', (r) => {
      const onset = [...choiceDate(r, 'onset')];
      return onset.length ? onset : point(r.recordedDate);
    }),
    date('onset-date', 'Condition.onset', (r) => choiceDate(r, 'onset')),
    date('recorded-date', 'Condition.recordedDate', (r) => point(r.recordedDate)),
  ],
  MedicationRequest: [
    lastUpdated,
    identifier,
    status,
    ...subjectPatient,
    encounter,
    tok('code', 'MedicationRequest.medicationCodeableConcept', (r) => codings(r.medicationCodeableConcept)),
    tok('category', 'MedicationRequest.category', (r) => codings(r.category)),
    tok('intent', 'MedicationRequest.intent', (r) => plainCodes(r.intent)),
    date('authoredon', 'MedicationRequest.authoredOn', (r) => point(r.authoredOn)),
    date('date', 'MedicationRequest.authoredOn', (r) => point(r.authoredOn)),
  ],
  AllergyIntolerance: [
    lastUpdated,
    identifier,
    reference('patient', 'AllergyIntolerance.patient', (r) => ref(r.patient), true),
    tok('code', 'AllergyIntolerance.code', (r) => codings(r.code)),
    tok('category', 'AllergyIntolerance.category', (r) => plainCodes(r.category)),
    tok('clinical-status', 'AllergyIntolerance.clinicalStatus', (r) => codings(r.clinicalStatus)),
    date('date', 'AllergyIntolerance.recordedDate', (r) => point(r.recordedDate)),
  ],
  Immunization: [
    lastUpdated,
    identifier,
    status,
    reference('patient', 'Immunization.patient', (r) => ref(r.patient), true),
    encounter,
    tok('vaccine-code', 'Immunization.vaccineCode', (r) => codings(r.vaccineCode)),
    date('date', 'Immunization.occurrence', (r) => [...point(r.occurrenceDateTime)]),
  ],
  Procedure: [
    lastUpdated,
    identifier,
    status,
    ...subjectPatient,
    encounter,
    tok('code', 'Procedure.code', (r) => codings(r.code)),
    tok('category', 'Procedure.category', (r) => codings(r.category)),
    date('date', 'Procedure.performed', (r) => choiceDate(r, 'performed')),
  ],
  Encounter: [
    lastUpdated,
    identifier,
    status,
    ...subjectPatient,
    tok('type', 'Encounter.type', (r) => codings(r.type)),
    tok('class', 'Encounter.class', (r) => (r.class ? [{ system: r.class.system, code: r.class.code }] : [])),
    date('date', 'Encounter.period', (r) => period(r.period)),
  ],
  DiagnosticReport: [
    lastUpdated,
    identifier,
    status,
    ...subjectPatient,
    encounter,
    tok('code', 'DiagnosticReport.code', (r) => codings(r.code)),
    tok('category', 'DiagnosticReport.category', (r) => codings(r.category)),
    date('date', 'DiagnosticReport.effective', (r) => choiceDate(r, 'effective')),
    reference('result', 'DiagnosticReport.result', (r) => ref(r.result)),
  ],
  Coverage: [
    lastUpdated,
    identifier,
    status,
    reference('patient', 'Coverage.beneficiary', (r) => ref(r.beneficiary), true),
    reference('beneficiary', 'Coverage.beneficiary', (r) => ref(r.beneficiary), true),
    tok('type', 'Coverage.type', (r) => codings(r.type)),
  ],
  // Drugs that MedicationRequests name by `medicationReference` (see `medication-references.ts`).
  Medication: [lastUpdated, identifier, tok('code', 'Medication.code', (r) => codings(r.code))],
  Organization: [lastUpdated, identifier, str('name', 'Organization.name', (r) => (r.name ? [r.name] : []))],
  Practitioner: [
    lastUpdated,
    identifier,
    str('name', 'Practitioner.name', (r) => names(r).flatMap((n: Any) => [n.family, ...(n.given ?? [])].filter(Boolean))),
  ],
};

/** Parameters that take comma OR-lists only when the EHR's profile says so. */
export const PATIENT_OR_PARAMS: ReadonlySet<string> = new Set(['patient', 'subject', 'beneficiary', '_id', 'identifier']);

/** Parameters that shape the result rather than filter it. */
export const RESULT_PARAMS: ReadonlySet<string> = new Set(['_count', '_sort', '_summary', '_total', '_format', '_pretty', '_elements']);

/** The definition of `name` on `type`, if the sandbox supports it. */
export function findParam(type: string, name: string): SearchParamDef | undefined {
  return SEARCH_PARAMS[type]?.find((p) => p.name === name);
}

/** Whether the sandbox serves this resource type. */
export function isServedType(type: string): boolean {
  return Object.hasOwn(SEARCH_PARAMS, type);
}

