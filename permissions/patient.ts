import { and } from 'graphql-shield';
import { canRead, hasRole, isAuthenticated } from './rules.js';
import type { Principal } from './roles.js';

export const SSN_SYSTEM = 'http://hl7.org/fhir/sid/us-ssn';

// The role matrix of PRODUCT.md ("Security") for the patient itself:
//   clinician         demographics, identifiers except the SSN (filtered in the resolver)
//   care_coordinator  demographics only
//   billing           demographics and identifiers with the SSN
//   analyst           de-identified fields only: pseudonymous id, gender, birth year and
//                     age group, 3-digit ZIP (the de-identification middleware rewrites them)
//   admin             everything
// Every role may enter through `patient` / `patients` (by id; analysts by pseudonym), so a
// token with only, say, `user/Observation.rs` can still reach a patient's observations;
// each field then checks its own resource scope. Lookups by identifier or demographics are
// closed to analysts: finding a record by an SSN or a name is re-identification.
const anyRole = hasRole('clinician', 'care_coordinator', 'billing', 'analyst', 'admin');
const namedLookup = and(hasRole('clinician', 'care_coordinator', 'billing', 'admin'), canRead('Patient'));
/** Fields Safe Harbor lets analysts see in reduced form. */
const deidentifiable = and(anyRole, canRead('Patient'));
/** Fields that name or reach the person: never for analysts. */
const identifying = and(hasRole('clinician', 'care_coordinator', 'billing', 'admin'), canRead('Patient'));

export const patientPermissions = {
  Query: {
    patient: anyRole,
    patients: anyRole,
    patientByIdentifier: namedLookup,
    searchPatients: namedLookup,
  },
  Patient: {
    id: anyRole,
    mergedFrom: anyRole,
    gender: deidentifiable,
    birthDate: deidentifiable,
    birthYear: deidentifiable,
    ageGroup: deidentifiable,
    addresses: deidentifiable,
    name: identifying,
    telecom: identifying,
    sourceRecords: identifying,
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

/** The SSN's system as sources may write it: the FHIR URI, or the same OID as a URN. */
const SSN_SYSTEMS = new Set([SSN_SYSTEM, 'urn:oid:2.16.840.1.113883.4.1']);

/** Whether an identifier system names the US SSN, however it is cased or has a trailing slash. */
export function isSsnSystem(system: string | null | undefined): boolean {
  return !!system && SSN_SYSTEMS.has(system.trim().toLowerCase().replace(/\/+$/, ''));
}

/** Clinicians see identifiers except the SSN; billing and admins see the SSN too. */
export function mayReadIdentifier(principal: Principal, system: string | null | undefined): boolean {
  return !isSsnSystem(system) || principal.role === 'billing' || principal.role === 'admin';
}

/**
 * A role may look patients up only by identifier systems it may see: a lookup by SSN that
 * answers with a name would tell a clinician whose SSN it is (an SSN oracle).
 */
export function mayLookUpByIdentifier(principal: Principal, system: string): boolean {
  return mayReadIdentifier(principal, system);
}
