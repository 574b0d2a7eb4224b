import { Field, ID, Int, ObjectType } from 'type-graphql';
import { CodeableConcept, Period, Provenance, SourceRef } from './common.types.js';

@ObjectType({ simpleResolvers: true, description: 'One party that pays under a coverage (FHIR Coverage.payor), usually the insurer.' })
export class CoveragePayor {
  @Field(() => String, { nullable: true, description: 'The payer’s name as the EHR shows it.' })
  display?: string | null;

  @Field(() => String, { nullable: true, description: 'The payer’s identifier (payer id, NAIC code), when the EHR has one.' })
  identifier?: string | null;

  @Field(() => String, { nullable: true, description: 'The FHIR reference to the payer’s Organization in the source, if any.' })
  reference?: string | null;
}

@ObjectType({ simpleResolvers: true, description: 'A grouping of the coverage, such as the employer group or the plan (FHIR Coverage.class).' })
export class CoverageClass {
  @Field(() => String, { nullable: true, description: 'group, subgroup, plan, subplan, class, ...' })
  type?: string | null;

  @Field(() => String, { nullable: true, description: 'The value (group number, plan id, ...).' })
  value?: string | null;

  @Field(() => String, { nullable: true, description: 'A human name for the value.' })
  name?: string | null;
}

@ObjectType({ simpleResolvers: true, description: 'An insurance policy or health program a patient is covered by, as the EHRs record it (FHIR Coverage).' })
export class Coverage {
  @Field(() => ID, { description: 'chartgraph id of the coverage: `<source>/Coverage/<source resource id>` of its first provenance.' })
  id!: string;

  @Field(() => String, { nullable: true, description: 'active, cancelled, draft or entered-in-error.' })
  status?: string | null;

  @Field(() => CodeableConcept, { nullable: true, description: 'The kind of coverage: health insurance plan, subsidised program (Medicaid), ...' })
  type?: CodeableConcept | null;

  @Field(() => String, { nullable: true, description: 'The member id the payer knows the patient by (the subscriber id, or the member number on a dependent’s card).' })
  memberId?: string | null;

  @Field(() => String, { nullable: true, description: 'The subscriber’s id with the payer (FHIR Coverage.subscriberId).' })
  subscriberId?: string | null;

  @Field(() => String, { nullable: true, description: 'How the patient relates to the subscriber: self, spouse, child, other, ...' })
  relationship?: string | null;

  @Field(() => [CoveragePayor], { description: 'Who pays (the insurer), as the EHR names them.' })
  payors!: CoveragePayor[];

  @Field(() => [CoverageClass], { description: 'Group and plan of the coverage.' })
  classes!: CoverageClass[];

  @Field(() => Period, { nullable: true, description: 'When the coverage is in force.' })
  period?: Period | null;

  @Field(() => Int, { nullable: true, description: 'Order of this coverage among the patient’s (1 = primary).' })
  order?: number | null;

  @Field(() => String, { nullable: true, description: 'The insurer’s network the coverage belongs to, if the EHR says.' })
  network?: string | null;

  @Field(() => SourceRef, {
    nullable: true,
    description: 'The configured payer eligibility source this coverage is checked with (matched on the payor’s id or name); null when none matches.',
  })
  eligibilitySource?: SourceRef | null;

  @Field(() => [Provenance], { description: 'Every EHR that recorded this coverage (more than one when two sources hold the same policy).' })
  provenance!: Provenance[];
}
