// FHIR R4 resource shapes come from Medplum's type package (types only, nothing at run time).
export type {
  Resource as FhirResource,
  Bundle,
  BundleLink,
  CapabilityStatement,
  OperationOutcome,
  Patient,
  Identifier,
  HumanName,
  CodeableConcept,
  Reference,
} from '@medplum/fhirtypes';

/** The resource types chartgraph reads from EHRs. */
export const CLINICAL_TYPES = [
  'Condition',
  'Observation',
  'MedicationRequest',
  'AllergyIntolerance',
  'Immunization',
  'Procedure',
  'Encounter',
  'DiagnosticReport',
  'Coverage',
] as const;
export type ClinicalType = (typeof CLINICAL_TYPES)[number];

/** FHIR search parameters as ordered name/value pairs; a name may repeat (AND). */
export type SearchParams = ReadonlyArray<readonly [name: string, value: string]>;
