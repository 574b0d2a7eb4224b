import { AuditResolver } from './audit.resolver.js';
import { CacheAdminResolver } from './cache-admin.resolver.js';
import { CohortResolver } from './cohort.resolver.js';
import { ClinicalResolver } from './clinical.resolver.js';
import { IdentityAdminResolver } from './identity-admin.resolver.js';
import { CoverageResolver } from './coverage.resolver.js';
import { EligibilityResolver } from './eligibility.resolver.js';
import { PatientAgeResolver } from './patient-age.resolver.js';
import { PatientResolver } from './patient.resolver.js';
import { PatientEventResolver } from './patient-events.resolver.js';
import { SourceResolver } from './source.resolver.js';

/** Every resolver class of the schema. */
export const resolvers = [PatientResolver, ClinicalResolver, SourceResolver, PatientAgeResolver, AuditResolver, CacheAdminResolver, CoverageResolver, EligibilityResolver, IdentityAdminResolver, CohortResolver, PatientEventResolver] as const;
