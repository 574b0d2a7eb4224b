import { and } from 'graphql-shield';
import { canRead, hasRole, isAuthenticated } from './rules.js';
import type { Principal } from './roles.js';

export const SSN_SYSTEM = 'http://hl7.org/fhir/sid/us-ssn';

// Who may see a patient's demographics. Analysts get nothing here until the de-identified
// view exists: identifying fields must never reach them.
const demographics = and(hasRole('clinician', 'care_coordinator', 'billing', 'admin'), canRead('Patient'));

export const patientPermissions = {
  Query: {
    patient: demographics,
    patientByIdentifier: demographics,
    patients: demographics,
    searchPatients: demographics,
  },
  Patient: {
    id: demographics,
    name: demographics,
    birthDate: demographics,
    gender: demographics,
    addresses: demographics,
    telecom: demographics,
    sourceRecords: demographics,
    identifiers: and(hasRole('clinician', 'billing', 'admin'), canRead('Patient')),
  },
  PatientConnection: isAuthenticated,
  PatientEdge: isAuthenticated,
  SourceRecord: isAuthenticated,
  HumanName: isAuthenticated,
  Identifier: isAuthenticated,
  Address: isAuthenticated,
  ContactPoint: isAuthenticated,
};

/** Clinicians see identifiers except the SSN; billing and admins see the SSN too. */
export function mayReadIdentifier(principal: Principal, system: string | null | undefined): boolean {
  return system !== SSN_SYSTEM || principal.role === 'billing' || principal.role === 'admin';
}
