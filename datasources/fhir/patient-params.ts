import type { FhirResource } from './fhir-types.js';

/**
 * Per resource type: the search parameter that names the patient, and the element of the
 * resource that points back at the patient. The one place that knows this.
 *
 * Coverage is searched by `beneficiary` (the person covered), not `patient`, which in R4
 * is the same thing only by convention and is missing on some servers. AllergyIntolerance
 * and Immunization hold the patient in `patient`; the rest in `subject`.
 */
const PATIENT_LINKS: Record<string, { param: string; element: string }> = {
  Condition: { param: 'patient', element: 'subject' },
  Observation: { param: 'patient', element: 'subject' },
  MedicationRequest: { param: 'patient', element: 'subject' },
  AllergyIntolerance: { param: 'patient', element: 'patient' },
  Immunization: { param: 'patient', element: 'patient' },
  Procedure: { param: 'patient', element: 'subject' },
  Encounter: { param: 'patient', element: 'subject' },
  DiagnosticReport: { param: 'patient', element: 'subject' },
  Coverage: { param: 'beneficiary', element: 'beneficiary' },
};

/** The search parameter that selects a resource type by patient (`_id` for Patient itself). */
export function patientSearchParam(resourceType: string): string {
  if (resourceType === 'Patient') return '_id';
  return PATIENT_LINKS[resourceType]?.param ?? 'patient';
}

/** The element of a resource type that holds its patient reference (`subject`, `patient` or `beneficiary`). */
export function patientElement(resourceType: string): string {
  return PATIENT_LINKS[resourceType]?.element ?? 'subject';
}

/**
 * The source patient id a resource belongs to, from its patient reference (`Patient/123`,
 * an absolute URL ending in `Patient/123`, or either with `/_history/n`). Undefined when
 * the reference is missing, contained (`#x`) or not to a Patient.
 */
export function patientIdOf(resource: FhirResource): string | undefined {
  if (resource.resourceType === 'Patient') return resource.id;
  const element = patientElement(resource.resourceType);
  const ref = (resource as unknown as Record<string, unknown>)[element];
  if (typeof ref !== 'object' || ref === null) return undefined;
  const reference = (ref as { reference?: unknown }).reference;
  if (typeof reference !== 'string') return undefined;
  const match = /(?:^|\/)Patient\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/.exec(reference);
  return match?.[1];
}
