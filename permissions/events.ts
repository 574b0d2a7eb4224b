import { hasRole, isAuthenticated, scopesAllowRead } from './rules.js';
import type { Principal, Role } from './roles.js';

// Event types follow the chart's rules (./clinical.ts): care coordinators see encounters,
// conditions and medications but no lab values; billing sees no clinical items; analysts
// reach patients only through de-identified cohorts, and an event names a patient and a time,
// so they get no feed.
const RESOURCE_OF: Record<string, string> = {
  ADMITTED: 'Encounter',
  DISCHARGED: 'Encounter',
  EMERGENCY_VISIT: 'Encounter',
  ENCOUNTER_UPDATED: 'Encounter',
  NEW_CONDITION: 'Condition',
  NEW_LAB_RESULT: 'Observation',
  NEW_MEDICATION: 'MedicationRequest',
};
const ROLE_TYPES: Record<Role, readonly string[]> = {
  clinician: Object.keys(RESOURCE_OF),
  admin: Object.keys(RESOURCE_OF),
  care_coordinator: ['ADMITTED', 'DISCHARGED', 'EMERGENCY_VISIT', 'ENCOUNTER_UPDATED', 'NEW_CONDITION', 'NEW_MEDICATION'],
  billing: [],
  analyst: [],
};

/**
 * The event types a principal may receive: those its role may see, whose resource type its
 * SMART scopes let it read. Resolvers intersect the caller's `types` with this set.
 */
export function visibleEventTypes(principal: Principal): Set<string> {
  return new Set(ROLE_TYPES[principal.role].filter((t) => scopesAllowRead(principal.scopes, RESOURCE_OF[t])));
}

const feedRoles = hasRole('clinician', 'care_coordinator', 'admin');

export const eventPermissions = {
  Query: { patientEvents: feedRoles },
  Subscription: { patientEvents: feedRoles },
  // The entry points above guard the feed and filter event types by role; the item inside is
  // one of the chart's types, and the patient is a Patient with its own field rules.
  PatientEvent: isAuthenticated,
  PatientEventConnection: isAuthenticated,
  PatientEventEdge: isAuthenticated,
};
