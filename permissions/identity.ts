import { hasRole } from './rules.js';

// Master patient index administration: admins only. The nested Patient keeps its own
// field rules (admins pass them all).
const admin = hasRole('admin');

export const identityPermissions = {
  Query: { possibleMatches: admin, patientMerges: admin },
  Mutation: { linkPatients: admin, unlinkSourceRecord: admin, reviewPossibleMatch: admin, mergePatients: admin, undoPatientMerge: admin },
  PatientMerge: admin,
  PatientMergeConnection: admin,
  PatientMergeEdge: admin,
  PossibleMatch: admin,
  PossibleMatchConnection: admin,
  PossibleMatchEdge: admin,
  MatchEvidence: admin,
  SourceRecordRef: admin,
};
