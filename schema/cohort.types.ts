import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Gender } from './common.types.js';
import { PageInfo } from './connection.types.js';
import { Patient } from './patient.type.js';
import { DateScalar, DateTimeScalar } from './scalars.js';

export enum CohortDimension {
  GENDER = 'GENDER',
  AGE_GROUP = 'AGE_GROUP',
  SOURCE = 'SOURCE',
  PAYER = 'PAYER',
  YEAR_OF_LAST_ENCOUNTER = 'YEAR_OF_LAST_ENCOUNTER',
}
registerEnumType(CohortDimension, {
  name: 'CohortDimension',
  description: 'What a cohort breakdown groups by.',
  valuesConfig: {
    GENDER: { description: 'Administrative gender (`unknown` when no record says).' },
    AGE_GROUP: { description: 'Age as of today in decades (`0-9`, `10-19`, ... `80-89`), `90+` together, `unknown` without a birth date.' },
    SOURCE: { description: 'Each source holding a record of the patient (a patient of two sources counts in both).' },
    PAYER: { description: 'Payer of each active Coverage (a patient with two payers counts in both; `none` without one).' },
    YEAR_OF_LAST_ENCOUNTER: { description: 'Year of the patient’s latest encounter at any source (`none` without one).' },
  },
});

export enum ObservationMatch {
  LATEST = 'LATEST',
  ANY = 'ANY',
}
registerEnumType(ObservationMatch, {
  name: 'ObservationMatch',
  description: 'Which of a patient’s values an observation criterion tests.',
  valuesConfig: {
    LATEST: { description: 'The patient’s most recent value of the code (across every source, since `since`).' },
    ANY: { description: 'Any value of the code (since `since`).' },
  },
});

@InputType({ description: 'A test on a patient’s observations of one code; values compare in the code’s normalised (UCUM) unit.' })
export class ObservationCriterion {
  @Field(() => String, { description: 'The observation code as a token, `system|code` or `code` (e.g. `http://loinc.org|4548-4`).' })
  code!: string;

  @Field(() => Float, { nullable: true, description: 'Lowest qualifying value (inclusive), in `unit`.' })
  minValue?: number | null;

  @Field(() => Float, { nullable: true, description: 'Highest qualifying value (inclusive), in `unit`.' })
  maxValue?: number | null;

  @Field(() => String, { nullable: true, description: 'Unit of the bounds (UCUM, e.g. `%` or `mmol/mol`); converted like stored values. Values in other, unconvertible units do not qualify.' })
  unit?: string | null;

  @Field(() => DateScalar, { nullable: true, description: 'Only observations on or after this date count (analysts: from the first day of its year).' })
  since?: string | null;

  @Field(() => ObservationMatch, { nullable: true, description: 'LATEST (default): the latest value must qualify; ANY: one value must.' })
  match?: ObservationMatch | null;
}

@InputType({ description: 'Who is in a cohort. Every field is optional; fields combine with AND, the values of one list with OR.' })
export class CohortCriteria {
  @Field(() => [String], { nullable: true, description: 'Condition codes as tokens (`system|code` or `code`): a patient with any of them, of any clinical status (entered-in-error and refuted ones never count).' })
  conditions?: string[] | null;

  @Field(() => [ObservationCriterion], { nullable: true, description: 'Observation tests: a patient passing any of them.' })
  observations?: ObservationCriterion[] | null;

  @Field(() => [String], { nullable: true, description: 'Medication codes as tokens (MedicationRequest.medicationCodeableConcept, or the code of the Medication its medicationReference names, contained or on the same source): a patient with a request for any of them.' })
  medications?: string[] | null;

  @Field(() => DateScalar, { nullable: true, description: 'A patient with an encounter starting on or after this date (analysts: from the first day of its year).' })
  encounterSince?: string | null;

  @Field(() => Gender, { nullable: true, description: 'Administrative gender.' })
  gender?: Gender | null;

  @Field(() => Int, { nullable: true, description: 'Youngest age in whole years as of today (inclusive).' })
  ageMin?: number | null;

  @Field(() => Int, { nullable: true, description: 'Oldest age in whole years as of today (inclusive). Analysts: at most 89 (older ages are one group).' })
  ageMax?: number | null;

  @Field(() => [String], { nullable: true, description: 'Payers of an active Coverage, by `payor` display or identifier value.' })
  payers?: string[] | null;

  @Field(() => [ID], { nullable: true, description: 'A patient with a record at any of these sources (facts of every source still count).' })
  sources?: string[] | null;
}

@ObjectType({ simpleResolvers: true, description: 'One cell of a cohort breakdown.' })
export class CohortCell {
  @Field(() => [String], { description: 'The cell’s value of each dimension, in the order asked.' })
  keys!: string[];

  @Field(() => Int, { nullable: true, description: 'Distinct patients in the cell; null when suppressed.' })
  count?: number | null;

  @Field(() => Boolean, {
    description: 'True when the count is withheld: for analysts, a count under `analytics.suppressionThreshold`, or a complementary cell withheld so that a suppressed one cannot be worked out from the totals.',
  })
  suppressed!: boolean;
}

@ObjectType({ simpleResolvers: true, description: 'A resource type of one source whose cohort facts lag behind that source’s last sync.' })
export class CohortTypeNotCurrent {
  @Field(() => ID, { description: 'The source.' })
  source!: string;

  @Field(() => String, { description: 'The FHIR resource type (`Condition`, `Observation`, ...).' })
  resourceType!: string;
}

@ObjectType({ simpleResolvers: true, description: 'How current a cohort answer is: cohorts come from the local store that `chartgraph sync --resources` fills.' })
export class CohortFreshness {
  @Field(() => DateTimeScalar, { description: 'When this answer was computed.' })
  asOf!: string;

  @Field(() => DateTimeScalar, {
    nullable: true,
    description: 'The oldest time the synced sources’ facts are current to: the start of the oldest last complete sync, or earlier where a type lags (see `typesNotCurrent`). Null before any sync.',
  })
  oldestFetchedAt?: string | null;

  @Field(() => [ID], { description: 'Configured sources never synced with resources: their patients and facts may be missing.' })
  sourcesNotSynced!: string[];

  @Field(() => [ID], { description: 'Sources being synced right now (the answer may change as they finish).' })
  sourcesSyncing!: string[];

  @Field(() => [CohortTypeNotCurrent], {
    description: 'Resource types of synced sources whose facts are behind the source’s last sync: the source would not list their changes without a patient, so only per-patient lists older than the type’s cache TTL were fetched again (`oldestFetchedAt` counts them).',
  })
  typesNotCurrent!: CohortTypeNotCurrent[];
}

@ObjectType({ simpleResolvers: true, description: 'One patient of a cohort with its cursor.' })
export class CohortEdge {
  @Field(() => String, { description: 'Opaque cursor of this patient.' })
  cursor!: string;

  @Field(() => Patient, { description: 'The patient.' })
  node!: Patient;
}

@ObjectType({ description: 'The patients who meet cohort criteria, a page at a time, with breakdowns and freshness.' })
export class CohortConnection {
  @Field(() => Int, { nullable: true, description: 'Patients in the cohort across every source, each unified patient once. Null for analysts when under the suppression threshold.' })
  totalCount?: number | null;

  @Field(() => [Patient], { description: 'The patients of this page (none for analysts when the cohort is under the suppression threshold).' })
  nodes!: Patient[];

  @Field(() => [CohortEdge], { description: 'The patients of this page, with cursors.' })
  edges!: CohortEdge[];

  @Field(() => PageInfo, { description: 'Where this page stands.' })
  pageInfo!: PageInfo;
}
