import { and } from 'graphql-shield';
import { canRead, hasRole, isAuthenticated, scopesAllowRead } from './rules.js';
import type { Principal, Role } from './roles.js';

// Who may run cohorts, and with what. A criterion or a breakdown discloses what the records
// hold as surely as the field does, so each follows the role matrix of the field it reads:
//   conditions, medications, encounters    clinician, care_coordinator, analyst, admin
//   observations (lab values)              clinician, analyst, admin
//   payers, PAYER (coverage)               care_coordinator, admin
//   gender, age, sources                   every role that may run cohorts
// Billing sees no clinical items, so it runs no cohorts at all (a cohort is a clinical
// selection even when only payers are asked). SMART scopes must grant the resource type too.
const cohortRoles: Role[] = ['clinician', 'care_coordinator', 'analyst', 'admin'];

/** What one part of a cohort reads: the FHIR type, and the roles that may read it. */
interface Need {
  resourceType: string;
  roles: readonly Role[];
}

const CARE_TEAM: Role[] = ['clinician', 'care_coordinator', 'analyst', 'admin'];
const NEEDS: Record<string, Need> = {
  conditions: { resourceType: 'Condition', roles: CARE_TEAM },
  medications: { resourceType: 'MedicationRequest', roles: CARE_TEAM },
  encounterSince: { resourceType: 'Encounter', roles: CARE_TEAM },
  YEAR_OF_LAST_ENCOUNTER: { resourceType: 'Encounter', roles: CARE_TEAM },
  observations: { resourceType: 'Observation', roles: ['clinician', 'analyst', 'admin'] },
  payers: { resourceType: 'Coverage', roles: ['care_coordinator', 'admin'] },
  PAYER: { resourceType: 'Coverage', roles: ['care_coordinator', 'admin'] },
};

/**
 * Null when `principal` may use every named criterion and breakdown dimension; otherwise
 * the first one it may not (for the FORBIDDEN message).
 */
export function refusedCohortPart(principal: Principal, parts: readonly string[]): string | null {
  for (const part of parts) {
    const need = NEEDS[part];
    if (!need) continue;
    if (!need.roles.includes(principal.role) || !scopesAllowRead(principal.scopes, need.resourceType)) return part;
  }
  return null;
}

export const cohortPermissions = {
  Query: {
    cohort: and(hasRole(...cohortRoles), canRead('Patient')),
  },
  CohortConnection: isAuthenticated,
  CohortEdge: isAuthenticated,
  CohortCell: isAuthenticated,
  CohortFreshness: isAuthenticated,
  CohortTypeNotCurrent: isAuthenticated,
};
