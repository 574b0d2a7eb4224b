import { and } from 'graphql-shield';
import { canRead, hasRole, isAuthenticated } from './rules.js';

// Coverage and payer eligibility are billing facts: billing staff, care coordinators and
// admins see them; clinicians and analysts do not. A SMART token must also grant reading
// Coverage (eligibility is derived from it).
const coverageReaders = and(hasRole('billing', 'care_coordinator', 'admin'), canRead('Coverage'));

export const eligibilityPermissions = {
  Query: {
    eligibility: coverageReaders,
  },
  Patient: {
    coverage: coverageReaders,
    eligibility: coverageReaders,
  },
  // The fields above guard entry; what is inside follows from them.
  Coverage: isAuthenticated,
  CoveragePayor: isAuthenticated,
  CoverageClass: isAuthenticated,
  EligibilityResult: isAuthenticated,
  EligibilityRejection: isAuthenticated,
  EligibilityWarning: isAuthenticated,
  EligibilityPlanStatus: isAuthenticated,
  EligibilityBenefit: isAuthenticated,
  ServiceTypeBenefits: isAuthenticated,
  NetworkBenefits: isAuthenticated,
  CostLimit: isAuthenticated,
};
