import { Field, ID, Int, ObjectType } from 'type-graphql';
import { CodeableConcept, Period, Provenance, Quantity } from './common.types.js';
import { connectionOf } from './connection.types.js';
import { DateTimeScalar } from './scalars.js';

@ObjectType('ClinicalItemBase', { simpleResolvers: true, description: 'Fields every clinical item has. Not emitted on its own.' })
export abstract class ClinicalItem {
  @Field(() => ID, { description: 'chartgraph id of the item: `<source>/<ResourceType>/<source resource id>` of its first provenance.' })
  id!: string;

  @Field(() => [Provenance], {
    description: 'Every source that reported this item (more than one when two sources sent the same item).',
  })
  provenance!: Provenance[];
}

@ObjectType({ simpleResolvers: true, description: 'A problem, diagnosis or health concern (FHIR Condition).' })
export class Condition extends ClinicalItem {
  @Field(() => CodeableConcept, { nullable: true, description: 'What the condition is.' })
  code?: CodeableConcept | null;

  @Field(() => String, { nullable: true, description: 'active, recurrence, relapse, inactive, remission or resolved.' })
  clinicalStatus?: string | null;

  @Field(() => String, { nullable: true, description: 'unconfirmed, provisional, differential, confirmed, refuted or entered-in-error.' })
  verificationStatus?: string | null;

  @Field(() => [CodeableConcept], { description: 'problem-list-item, encounter-diagnosis, ...' })
  category!: CodeableConcept[];

  @Field(() => DateTimeScalar, { nullable: true, description: 'When it began.' })
  onset?: string | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When it resolved or went into remission.' })
  abatement?: string | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When it was first recorded.' })
  recordedDate?: string | null;
}

@ObjectType({ simpleResolvers: true, description: 'One part of a multi-part observation, such as the systolic value of a blood pressure.' })
export class ObservationComponent {
  @Field(() => CodeableConcept, { nullable: true, description: 'What this part measures.' })
  code?: CodeableConcept | null;

  @Field(() => Quantity, { nullable: true, description: 'The measured value, when numeric.' })
  valueQuantity?: Quantity | null;

  @Field(() => CodeableConcept, { nullable: true, description: 'The value, when coded.' })
  valueCodeableConcept?: CodeableConcept | null;

  @Field(() => String, { nullable: true, description: 'The value, when text.' })
  valueString?: string | null;
}

@ObjectType({ simpleResolvers: true, description: 'A measurement or finding: labs, vital signs, survey answers, social history (FHIR Observation).' })
export class Observation extends ClinicalItem {
  @Field(() => String, { nullable: true, description: 'registered, preliminary, final, amended, ...' })
  status?: string | null;

  @Field(() => CodeableConcept, { nullable: true, description: 'What was observed (usually a LOINC code).' })
  code?: CodeableConcept | null;

  @Field(() => [CodeableConcept], { description: 'laboratory, vital-signs, survey, social-history, ...' })
  category!: CodeableConcept[];

  @Field(() => DateTimeScalar, { nullable: true, description: 'When the observation applies to the patient (effective date or start of its period).' })
  effective?: string | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When the result was released.' })
  issued?: string | null;

  @Field(() => Quantity, { nullable: true, description: 'The result, when numeric.' })
  valueQuantity?: Quantity | null;

  @Field(() => CodeableConcept, { nullable: true, description: 'The result, when coded.' })
  valueCodeableConcept?: CodeableConcept | null;

  @Field(() => String, { nullable: true, description: 'The result, when text.' })
  valueString?: string | null;

  @Field(() => [CodeableConcept], { description: 'High, low, abnormal, ... flags.' })
  interpretation!: CodeableConcept[];

  @Field(() => [ObservationComponent], { description: 'Parts of a multi-part observation (blood pressure, panels).' })
  components!: ObservationComponent[];
}

@ObjectType({ simpleResolvers: true, description: 'An order for a medication (FHIR MedicationRequest).' })
export class MedicationRequest extends ClinicalItem {
  @Field(() => String, { nullable: true, description: 'active, on-hold, cancelled, completed, stopped, ...' })
  status?: string | null;

  @Field(() => String, { nullable: true, description: 'proposal, plan, order, ...' })
  intent?: string | null;

  @Field(() => CodeableConcept, { nullable: true, description: 'The medication (usually RxNorm).' })
  medication?: CodeableConcept | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When it was ordered.' })
  authoredOn?: string | null;

  @Field(() => [String], { description: 'Dosage instructions as text.' })
  dosageInstructions!: string[];

  @Field(() => [CodeableConcept], { description: 'Why it was ordered.' })
  reasonCode!: CodeableConcept[];
}

@ObjectType({ simpleResolvers: true, description: 'An allergy or intolerance (FHIR AllergyIntolerance).' })
export class AllergyIntolerance extends ClinicalItem {
  @Field(() => CodeableConcept, { nullable: true, description: 'The substance.' })
  code?: CodeableConcept | null;

  @Field(() => String, { nullable: true, description: 'active, inactive or resolved.' })
  clinicalStatus?: string | null;

  @Field(() => String, { nullable: true, description: 'unconfirmed, confirmed, refuted or entered-in-error.' })
  verificationStatus?: string | null;

  @Field(() => String, { nullable: true, description: 'allergy or intolerance.' })
  type?: string | null;

  @Field(() => [String], { description: 'food, medication, environment, biologic.' })
  category!: string[];

  @Field(() => String, { nullable: true, description: 'low, high or unable-to-assess.' })
  criticality?: string | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When it was recorded.' })
  recordedDate?: string | null;

  @Field(() => [CodeableConcept], { description: 'Reactions seen (manifestations).' })
  reactions!: CodeableConcept[];
}

@ObjectType({ simpleResolvers: true, description: 'A vaccination given or reported (FHIR Immunization).' })
export class Immunization extends ClinicalItem {
  @Field(() => String, { nullable: true, description: 'completed, entered-in-error or not-done.' })
  status?: string | null;

  @Field(() => CodeableConcept, { nullable: true, description: 'The vaccine (usually CVX).' })
  vaccineCode?: CodeableConcept | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When it was given.' })
  occurrence?: string | null;

  @Field(() => Boolean, { nullable: true, description: 'True when recorded from the original record.' })
  primarySource?: boolean | null;
}

@ObjectType({ simpleResolvers: true, description: 'A procedure performed (FHIR Procedure).' })
export class Procedure extends ClinicalItem {
  @Field(() => String, { nullable: true, description: 'preparation, in-progress, completed, ...' })
  status?: string | null;

  @Field(() => CodeableConcept, { nullable: true, description: 'What was done.' })
  code?: CodeableConcept | null;

  @Field(() => Period, { nullable: true, description: 'When it was performed.' })
  performed?: Period | null;

  @Field(() => [CodeableConcept], { description: 'Why it was performed.' })
  reasonCode!: CodeableConcept[];
}

@ObjectType({ simpleResolvers: true, description: 'A visit or admission (FHIR Encounter).' })
export class Encounter extends ClinicalItem {
  @Field(() => String, { nullable: true, description: 'planned, in-progress, finished, cancelled, ...' })
  status?: string | null;

  @Field(() => String, { nullable: true, description: 'Class code: AMB (ambulatory), IMP (inpatient), EMER, ...' })
  class?: string | null;

  @Field(() => [CodeableConcept], { description: 'Specific type of encounter.' })
  type!: CodeableConcept[];

  @Field(() => Period, { nullable: true, description: 'When it took place.' })
  period?: Period | null;

  @Field(() => [CodeableConcept], { description: 'Why it took place.' })
  reasonCode!: CodeableConcept[];

  @Field(() => String, { nullable: true, description: 'The organisation or location name as the source gave it.' })
  serviceProvider?: string | null;
}

@ObjectType({ simpleResolvers: true, description: 'A report of diagnostic results: lab panels, imaging, ... (FHIR DiagnosticReport).' })
export class DiagnosticReport extends ClinicalItem {
  @Field(() => String, { nullable: true, description: 'registered, partial, preliminary, final, ...' })
  status?: string | null;

  @Field(() => CodeableConcept, { nullable: true, description: 'What the report is about.' })
  code?: CodeableConcept | null;

  @Field(() => [CodeableConcept], { description: 'Service category (LAB, RAD, ...).' })
  category!: CodeableConcept[];

  @Field(() => DateTimeScalar, { nullable: true, description: 'When the report applies to the patient.' })
  effective?: string | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When it was released.' })
  issued?: string | null;

  @Field(() => Int, { description: 'How many result observations the report refers to.' })
  resultCount!: number;

  @Field(() => String, { nullable: true, description: 'The report’s conclusion text, when the source gave one.' })
  conclusion?: string | null;
}

export const ConditionConnection = connectionOf(Condition, 'Condition', 'condition');
export const ObservationConnection = connectionOf(Observation, 'Observation', 'observation');
export const MedicationRequestConnection = connectionOf(MedicationRequest, 'MedicationRequest', 'medication request');
export const AllergyIntoleranceConnection = connectionOf(AllergyIntolerance, 'AllergyIntolerance', 'allergy or intolerance');
export const ImmunizationConnection = connectionOf(Immunization, 'Immunization', 'immunization');
export const ProcedureConnection = connectionOf(Procedure, 'Procedure', 'procedure');
export const EncounterConnection = connectionOf(Encounter, 'Encounter', 'encounter');
export const DiagnosticReportConnection = connectionOf(DiagnosticReport, 'DiagnosticReport', 'diagnostic report');
