import { Field, Float, ID, InputType, ObjectType, registerEnumType } from 'type-graphql';
import { SourceRef } from './common.types.js';
import { connectionOf } from './connection.types.js';
import { Patient } from './patient.type.js';
import { DateTimeScalar } from './scalars.js';

export enum PossibleMatchStatus {
  OPEN = 'open',
  LINKED = 'linked',
  REJECTED = 'rejected',
}
registerEnumType(PossibleMatchStatus, {
  name: 'PossibleMatchStatus',
  description: 'Review state of a possible match.',
  valuesConfig: {
    OPEN: { description: 'Waiting for an admin.' },
    LINKED: { description: 'An admin linked the candidate into the patient.' },
    REJECTED: { description: 'An admin decided they are two people (also set when an admin unlinks a record).' },
  },
});

export enum MatchReviewDecision {
  LINK = 'LINK',
  REJECT = 'REJECT',
}
registerEnumType(MatchReviewDecision, {
  name: 'MatchReviewDecision',
  description: 'An admin’s verdict on a possible match.',
  valuesConfig: {
    LINK: { description: 'Same person: link the candidate record into the patient.' },
    REJECT: { description: 'Two people: never link them automatically.' },
  },
});

@InputType({ description: 'One source patient record: a source id and the patient’s resource id there.' })
export class SourceRecordInput {
  @Field(() => String, { description: 'Configured source id.' })
  sourceId!: string;

  @Field(() => String, { description: 'The patient’s resource id in that source.' })
  sourcePatientId!: string;
}

@ObjectType({ simpleResolvers: true, description: 'A source patient record, named by source and resource id.' })
export class SourceRecordRef {
  @Field(() => SourceRef, { description: 'The source that holds the record.' })
  source!: SourceRef;

  @Field(() => String, { description: 'The patient’s resource id in that source.' })
  sourcePatientId!: string;
}

@ObjectType({ simpleResolvers: true, description: 'How one demographic field compared in a match (outcomes and weights only, no values).' })
export class MatchEvidence {
  @Field(() => String, { description: 'family, given, birthDate, gender, address, phone or strongIdentifier.' })
  field!: string;

  @Field(() => String, { description: 'exact, nickname, typo, transposed, partial, zip, agree, disagree, missing, ...' })
  outcome!: string;

  @Field(() => Float, { description: 'Bits this field added to the score: log2(m/u) of its outcome; 0 when missing.' })
  weight!: number;
}

@ObjectType({ simpleResolvers: true, description: 'A source record that scored as perhaps the same person as a patient: kept, not linked, for an admin to review.' })
export class PossibleMatch {
  @Field(() => ID, { description: 'Possible match id.' })
  id!: string;

  @Field(() => ID, { description: 'Unified id of the patient the candidate may belong to.' })
  patientId!: string;

  @Field(() => Patient, { nullable: true, description: 'The patient the candidate may belong to (null when it has no records left).' })
  patient?: Patient | null;

  @Field(() => SourceRecordRef, { description: 'The candidate source record.' })
  candidate!: SourceRecordRef;

  @Field(() => Float, { description: 'Fellegi-Sunter score in bits (log2 likelihood ratio of same person vs two people).' })
  score!: number;

  @Field(() => String, {
    nullable: true,
    description: 'Why a pair that scored high enough, or shared a strong identifier, was still held for review: identifier-conflict, identifier-mismatch, given-name-conflict, given-name-gender-conflict, birth-date-conflict.',
  })
  held?: string | null;

  @Field(() => [MatchEvidence], { description: 'Per-field outcomes behind the score.' })
  evidence!: MatchEvidence[];

  @Field(() => PossibleMatchStatus, { description: 'Review state.' })
  status!: PossibleMatchStatus;

  @Field(() => DateTimeScalar, { description: 'When the matcher found the pair.' })
  createdAt!: string;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When an admin decided.' })
  reviewedAt?: string | null;

  @Field(() => String, { nullable: true, description: 'Subject of the admin who decided.' })
  reviewedBy?: string | null;
}

export const PossibleMatchConnection = connectionOf(PossibleMatch, 'PossibleMatch', 'possible match');

@ObjectType({ simpleResolvers: true, description: 'Two unified patients found to be one person and merged: the survivor keeps every record, the merged id resolves to it. Admins can undo it.' })
export class PatientMerge {
  @Field(() => ID, { description: 'Merge id (for `undoPatientMerge`).' })
  id!: string;

  @Field(() => ID, { description: 'Unified id that survived and holds the records now.' })
  survivorId!: string;

  @Field(() => ID, { description: 'Unified id that was merged away; it resolves to the survivor until the merge is undone.' })
  mergedId!: string;

  @Field(() => [SourceRecordRef], { description: 'The source records that moved from the merged patient to the survivor.' })
  records!: SourceRecordRef[];

  @Field(() => String, { description: '`matcher` (evidence in a look-up or a sync joined them) or `manual` (an admin).' })
  method!: string;

  @Field(() => Float, { nullable: true, description: 'Score in bits of the pair that joined them, when the matcher merged.' })
  score?: number | null;

  @Field(() => String, { description: 'Who merged: an admin’s subject, or `matcher`.' })
  mergedBy!: string;

  @Field(() => DateTimeScalar, { description: 'When the merge happened.' })
  at!: string;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When an admin undid it; null while it holds.' })
  undoneAt?: string | null;

  @Field(() => String, { nullable: true, description: 'Subject of the admin who undid it.' })
  undoneBy?: string | null;
}

export const PatientMergeConnection = connectionOf(PatientMerge, 'PatientMerge', 'patient merge');
