import { ClinicalResolver } from './clinical.resolver.js';
import { PatientResolver } from './patient.resolver.js';
import { SourceResolver } from './source.resolver.js';

/** Every resolver class of the schema. */
export const resolvers = [PatientResolver, ClinicalResolver, SourceResolver] as const;
