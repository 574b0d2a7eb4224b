import { Field, Float, ID, ObjectType } from 'type-graphql';
import { Address, ContactPoint, Gender, HumanName, Identifier, SourceRef } from './common.types.js';
import { connectionOf } from './connection.types.js';
import { DateScalar, DateTimeScalar } from './scalars.js';

@ObjectType({ simpleResolvers: true, description: 'One source’s patient record linked into a unified patient, and how it was linked.' })
export class SourceRecord {
  @Field(() => SourceRef, { description: 'The source that holds the record.' })
  source!: SourceRef;

  @Field(() => String, { description: 'The patient’s resource id in that source.' })
  sourcePatientId!: string;

  @Field(() => String, {
    description: 'How the record was linked: `identifier` (a shared strong identifier such as SSN), `demographic` (scored match), `manual` (an admin), or `origin` (the record the patient was first found by).',
  })
  matchMethod!: string;

  @Field(() => Float, { nullable: true, description: 'Match score for demographic links (higher is more certain); null for other methods.' })
  matchScore?: number | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When the source last changed the record (meta.lastUpdated).' })
  lastUpdated?: string | null;
}

@ObjectType({ simpleResolvers: true, description: 'One person, stitched together from every source that knows them. Clinical lists come from every linked source record.' })
export class Patient {
  @Field(() => ID, { description: 'Unified patient id, stable across restarts and gateway replicas.' })
  id!: string;

  @Field(() => [ID], {
    description:
      'Ids of patients that were merged into this one (the same person found twice). They keep resolving to this patient: `patient(id:)` with one of them answers this patient, whose `id` differs from the one asked for.',
  })
  mergedFrom!: string[];

  @Field(() => HumanName, { nullable: true, description: 'The best name across sources: the official name of the most recently updated record.' })
  name?: HumanName | null;

  @Field(() => DateScalar, { nullable: true, description: 'Birth date, from the most recently updated record that has one.' })
  birthDate?: string | null;

  @Field(() => Gender, { nullable: true, description: 'Administrative gender, from the most recently updated record that has one.' })
  gender?: Gender | null;

  @Field(() => [Identifier], { description: 'Every identifier any source holds for the patient (MRNs, SSN, ...), without repeats.' })
  identifiers!: Identifier[];

  @Field(() => [Address], { description: 'Addresses from the most recently updated record that has any.' })
  addresses!: Address[];

  @Field(() => [ContactPoint], { description: 'Phones and e-mail addresses from the most recently updated record that has any.' })
  telecom!: ContactPoint[];

  @Field(() => [SourceRecord], { description: 'Each source patient record linked into this patient.' })
  sourceRecords!: SourceRecord[];
}

export const PatientConnection = connectionOf(Patient, 'Patient', 'patient');
