import type { Medication, MedicationRequest } from '@medplum/fhirtypes';

const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;
/** `Medication/<id>` with an optional `/_history/<version>`, at the end of a reference. */
const MEDICATION_TAIL = /^Medication\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;

/** The Medication a request names by `#id` among its own contained resources; undefined otherwise. */
export function containedMedication(request: MedicationRequest): Medication | undefined {
  const ref = request.medicationReference?.reference;
  if (typeof ref !== 'string' || !ref.startsWith('#')) return undefined;
  const id = ref.slice(1);
  const found = (request.contained ?? []).find((r) => r.resourceType === 'Medication' && r.id === id);
  return found as Medication | undefined;
}

/**
 * The id of the Medication a request references on the same source: `Medication/<id>`
 * (versioned or not), relative or absolute under the source's base. Undefined for a
 * contained, logical or other server's reference (the same id there is another drug).
 */
export function referencedMedicationId(request: MedicationRequest, base: string): string | undefined {
  const ref = request.medicationReference?.reference;
  if (request.medicationCodeableConcept || typeof ref !== 'string' || ref.startsWith('#')) return undefined;
  let tail = ref;
  if (/^[a-z][a-z0-9+.-]*:/i.test(ref)) {
    const prefix = `${base.replace(/\/+$/, '')}/`;
    if (!ref.startsWith(prefix)) return undefined;
    tail = ref.slice(prefix.length);
  }
  const id = MEDICATION_TAIL.exec(tail)?.[1];
  return id && FHIR_ID.test(id) ? id : undefined;
}
