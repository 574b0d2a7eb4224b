import type { FhirResource, SearchParams } from './fhir-types.js';
import { patientElement, patientSearchParam } from './patient-params.js';
import { splitUnescaped, unescapeSearchValue } from './search-params.js';

const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;
/** `Patient/<id>` with an optional `/_history/<version>`, at the end of a reference. */
const PATIENT_TAIL = /^Patient\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;

/**
 * The id of the patient a reference names when that patient lives on this source:
 * relative (`Patient/1`, `Patient/1/_history/2`) or absolute under the source's own base
 * (`[base]/Patient/1`, versioned or not). Undefined for a reference to another server
 * (the same id there is another person), a contained (`#x`) or logical (identifier-only)
 * reference, or one to another resource type.
 */
export function referencedPatientId(reference: unknown, base: string): string | undefined {
  if (typeof reference !== 'string') return undefined;
  let tail = reference;
  if (/^[a-z][a-z0-9+.-]*:/i.test(reference)) {
    const prefix = `${base.replace(/\/+$/, '')}/`;
    if (!reference.startsWith(prefix)) return undefined;
    tail = reference.slice(prefix.length);
  }
  return PATIENT_TAIL.exec(tail)?.[1];
}

/** The patient a resource belongs to on this source (see {@link referencedPatientId}); a Patient is its own. */
export function attributedPatientId(resource: FhirResource, base: string): string | undefined {
  if (resource.resourceType === 'Patient') return typeof resource.id === 'string' && FHIR_ID.test(resource.id) ? resource.id : undefined;
  const ref = (resource as unknown as Record<string, unknown>)[patientElement(resource.resourceType)];
  if (typeof ref !== 'object' || ref === null) return undefined;
  return referencedPatientId((ref as { reference?: unknown }).reference, base);
}

/**
 * The patients a search asked for, from its patient parameter (`patient`, `subject`,
 * `beneficiary`, or `_id` for Patient), as source ids: an OR list gives several, a
 * `Patient/x` value gives `x`. Undefined when the search names no patient (a search by
 * identifier or name), so nothing can be attributed against it.
 */
export function askedPatientIds(resourceType: string, params: SearchParams): ReadonlySet<string> | undefined {
  const names = resourceType === 'Patient' ? ['_id'] : [patientSearchParam(resourceType), 'subject', 'patient'];
  const param = params.find(([name]) => names.includes(name));
  if (!param) return undefined;
  const ids = new Set<string>();
  for (const part of splitUnescaped(param[1], ',')) {
    const value = unescapeSearchValue(part);
    ids.add(value.startsWith('Patient/') ? value.slice('Patient/'.length) : value);
  }
  return ids;
}
