import { createUnionType, Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { Condition, Encounter, MedicationRequest, Observation } from './clinical.types.js';
import { Provenance } from './common.types.js';
import { connectionOf } from './connection.types.js';
import { Patient } from './patient.type.js';
import { DateTimeScalar } from './scalars.js';

/** Mirrors events/event-types.ts (schema/ imports nothing from domain folders' internals). */
export enum PatientEventType {
  ADMITTED = 'ADMITTED',
  DISCHARGED = 'DISCHARGED',
  EMERGENCY_VISIT = 'EMERGENCY_VISIT',
  ENCOUNTER_UPDATED = 'ENCOUNTER_UPDATED',
  NEW_CONDITION = 'NEW_CONDITION',
  NEW_LAB_RESULT = 'NEW_LAB_RESULT',
  NEW_MEDICATION = 'NEW_MEDICATION',
}
registerEnumType(PatientEventType, {
  name: 'PatientEventType',
  description: 'What happened to a patient at a source.',
  valuesConfig: {
    ADMITTED: { description: 'A new inpatient (or observation, short-stay) encounter began.' },
    DISCHARGED: { description: 'An inpatient or emergency encounter finished.' },
    EMERGENCY_VISIT: { description: 'A new emergency-department encounter began.' },
    ENCOUNTER_UPDATED: { description: 'Any other new or changed encounter (transfer, status change, outpatient visit).' },
    NEW_CONDITION: { description: 'A problem or diagnosis was recorded.' },
    NEW_LAB_RESULT: { description: 'A laboratory result arrived; `abnormal` says whether the source flagged it.' },
    NEW_MEDICATION: { description: 'A medication was ordered.' },
  },
});

export const PatientEventItem = createUnionType({
  name: 'PatientEventItem',
  description: 'The clinical item an event is about, through the same types (and field permissions) as the chart.',
  types: () => [Encounter, Condition, Observation, MedicationRequest] as const,
  // Resolvers tag each item with its schema type name.
  resolveType: (value) => (value as unknown as { __typename: string }).__typename,
});

@ObjectType({ description: 'Something that happened to a patient at one or more sources: an admission, a discharge, a new result, ...' })
export class PatientEvent {
  @Field(() => ID, { description: 'Stable id (the same on every replica and after restarts): pass the last one received as `after` to resume.' })
  id!: string;

  @Field(() => PatientEventType, { description: 'What happened.' })
  type!: PatientEventType;

  @Field(() => DateTimeScalar, { description: 'When it happened at the source (admission start, discharge end, result time, order time, ...).' })
  occurredAt!: string;

  @Field(() => DateTimeScalar, { description: 'When chartgraph first saw it.' })
  detectedAt!: string;

  @Field(() => Boolean, {
    nullable: true,
    description: 'NEW_LAB_RESULT: true when the source flagged the result abnormal (high, low, critical, ...), false when normal, null when it did not say.',
  })
  abnormal?: boolean | null;

  @Field(() => Patient, { nullable: true, description: 'The unified patient (a merged patient shows its survivor); null when no source record of it is linked any more.' })
  patient?: unknown;

  @Field(() => PatientEventItem, { nullable: true, description: 'The encounter, condition, lab result or medication order, as the chart shows it.' })
  item?: unknown;

  @Field(() => [Provenance], { description: 'Every source that reported this event (two when two hospitals did).' })
  provenance!: Provenance[];
}

export const PatientEventConnection = connectionOf(PatientEvent, 'PatientEvent', 'patient event');
