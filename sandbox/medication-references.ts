import type { FhirResource } from '../datasources/fhir/fhir-types.js';
import { hashHex, hashUnit } from './hash.js';

type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** How a MedicationRequest names its drug after {@link withMedicationReferences}. */
export type MedicationForm = 'concept' | 'contained' | 'referenced';

/** Which form a request takes: a third each, by a hash of its id (the same in every run). */
export function medicationForm(requestId: string): MedicationForm {
  const u = hashUnit('medication-form', requestId);
  return u < 1 / 3 ? 'concept' : u < 2 / 3 ? 'contained' : 'referenced';
}

/** The id of the shared Medication resource of one drug code. */
export function medicationIdFor(system: string, code: string): string {
  return `med-${hashHex('medication', system, code).slice(0, 16)}`;
}

/**
 * The `medicationReference` variant of a set of resources, as EHRs that keep a drug
 * formulary send them: a third of MedicationRequests keep `medicationCodeableConcept`, a
 * third name a contained Medication (`#med`), a third reference a shared
 * `Medication/<id>` (one per drug code, added to the resources). Codes stay the same, so
 * every cohort over the variant equals the one over the originals.
 */
export function withMedicationReferences(resources: readonly FhirResource[]): FhirResource[] {
  const drugs = new Map<string, FhirResource>();
  const out = resources.map((r) => {
    if (r.resourceType !== 'MedicationRequest' || !r.id) return r;
    const { medicationCodeableConcept: concept, ...rest } = r as Any;
    const first = concept?.coding?.find((c: Any) => c?.code);
    const form = medicationForm(r.id);
    if (!concept || !first || form === 'concept') return r;
    if (form === 'contained') {
      return { ...rest, contained: [...(rest.contained ?? []), { resourceType: 'Medication', id: 'med', code: concept }], medicationReference: { reference: '#med' } } as FhirResource;
    }
    const id = medicationIdFor(first.system ?? '', first.code);
    if (!drugs.has(id)) drugs.set(id, { resourceType: 'Medication', id, meta: { lastUpdated: r.meta?.lastUpdated ?? '2020-01-01T00:00:00Z' }, code: concept } as unknown as FhirResource);
    return { ...rest, medicationReference: { reference: `Medication/${id}`, ...(concept.text && { display: concept.text }) } } as FhirResource;
  });
  return [...out, ...drugs.values()];
}
