import { and } from 'graphql-shield';
import { canRead, hasRole, isAuthenticated } from './rules.js';

// Care coordinators see the care picture (encounters, problems, medications, allergies) but
// not observations (lab values live there), reports, immunizations or procedures; billing
// sees no clinical items. Analysts see every list, de-identified by the middleware in
// ./deid-middleware.ts (year-only dates, pseudonymous ids, no free text).
const careTeam = (type: string) => and(hasRole('clinician', 'care_coordinator', 'analyst', 'admin'), canRead(type));
const cliniciansOnly = (type: string) => and(hasRole('clinician', 'analyst', 'admin'), canRead(type));

const itemTypes = [
  'Condition',
  'Observation',
  'ObservationComponent',
  'MedicationRequest',
  'AllergyIntolerance',
  'Immunization',
  'Procedure',
  'Encounter',
  'DiagnosticReport',
];
const connectionTypes = itemTypes.filter((t) => t !== 'ObservationComponent').flatMap((t) => [`${t}Connection`, `${t}Edge`]);

export const clinicalPermissions = {
  Patient: {
    conditions: careTeam('Condition'),
    encounters: careTeam('Encounter'),
    medicationRequests: careTeam('MedicationRequest'),
    allergies: careTeam('AllergyIntolerance'),
    observations: cliniciansOnly('Observation'),
    diagnosticReports: cliniciansOnly('DiagnosticReport'),
    immunizations: cliniciansOnly('Immunization'),
    procedures: cliniciansOnly('Procedure'),
  },
  // The connection fields above guard entry; what is inside follows from them.
  ...Object.fromEntries([...itemTypes, ...connectionTypes].map((t) => [t, isAuthenticated])),
  PageInfo: isAuthenticated,
  Provenance: isAuthenticated,
  SourceRef: isAuthenticated,
  CodeableConcept: isAuthenticated,
  Coding: isAuthenticated,
  Quantity: isAuthenticated,
  // Inside a Quantity: reachable only where the Quantity itself is.
  NormalizedQuantity: isAuthenticated,
  Period: isAuthenticated,
};
