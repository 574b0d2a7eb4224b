import { ArgsType, Field } from 'type-graphql';
import { DateTimeScalar } from '../schema/scalars.js';
import { PageArgs } from './pagination.js';

// Filters of the clinical connections. Each maps to the FHIR search parameter of that
// resource type (see clinical-kinds.ts) and is checked again on what comes back, because a
// FHIR server may ignore a parameter it does not support.

const TOKEN = 'A token as FHIR writes it: `system|code`, or just `code` for any system.';

@ArgsType()
export class ConditionArgs extends PageArgs {
  @Field(() => String, { nullable: true, description: `Condition code. ${TOKEN}` })
  code?: string | null;

  @Field(() => String, { nullable: true, description: `Category, such as problem-list-item or encounter-diagnosis. ${TOKEN}` })
  category?: string | null;

  @Field(() => String, { nullable: true, description: 'Clinical status code: active, inactive, resolved, ...' })
  clinicalStatus?: string | null;
}

@ArgsType()
export class ObservationArgs extends PageArgs {
  @Field(() => String, { nullable: true, description: `Observation code, usually LOINC. ${TOKEN}` })
  code?: string | null;

  @Field(() => String, { nullable: true, description: `Category, such as laboratory or vital-signs. ${TOKEN}` })
  category?: string | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'Only observations effective on or after this date.' })
  since?: string | null;
}

@ArgsType()
export class CodedSinceArgs extends PageArgs {
  @Field(() => String, { nullable: true, description: `Code of the item. ${TOKEN}` })
  code?: string | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'Only items dated on or after this date.' })
  since?: string | null;
}

@ArgsType()
export class MedicationRequestArgs extends CodedSinceArgs {
  @Field(() => String, { nullable: true, description: 'Status: active, completed, stopped, ...' })
  status?: string | null;
}

@ArgsType()
export class AllergyArgs extends PageArgs {
  @Field(() => String, { nullable: true, description: `Substance code. ${TOKEN}` })
  code?: string | null;

  @Field(() => String, { nullable: true, description: 'Clinical status code: active, inactive, resolved.' })
  clinicalStatus?: string | null;
}

@ArgsType()
export class SinceArgs extends PageArgs {
  @Field(() => DateTimeScalar, { nullable: true, description: 'Only items dated on or after this date.' })
  since?: string | null;
}

@ArgsType()
export class DiagnosticReportArgs extends CodedSinceArgs {
  @Field(() => String, { nullable: true, description: `Category, such as LAB. ${TOKEN}` })
  category?: string | null;
}

/** Every filter any clinical connection takes. */
export type ClinicalFilters = {
  code?: string | null;
  category?: string | null;
  clinicalStatus?: string | null;
  status?: string | null;
  since?: string | null;
};
